-- The GPU-hours a team held in a month are one number: fct_team_productivity_monthly, fct_cost_allocation_monthly
-- (usage lines, summed over projects) and the per-holder grain (fct_gpu_holder_hourly) all credit each holder's
-- own held seconds to its team (each rounds its DECIMAL hours once per row, so they agree to a micro-hour).
{{ config(meta={'dagster': {'ref': {'name': 'fct_team_productivity_monthly'}}}) }}
with held as (
    select
        date_trunc('month', hour_at)::date as month_start,
        coalesce(team, 'unknown') as team,
        {{ s_to_hours('sum(held_s)') }} as gpu_hours
    from {{ ref('fct_gpu_holder_hourly') }}
    where {{ in_rebuilt_window('hour_at', 'month') }}
    group by all
),

productivity as (
    select month_start, team, gpu_hours
    from {{ ref('fct_team_productivity_monthly') }}
    where gpu_hours > 0 and {{ in_rebuilt_window('month_start', 'month') }}
),

costs as (
    select month_start, team, sum(gpu_hours) as gpu_hours
    from {{ ref('fct_cost_allocation_monthly') }}
    where cost_kind = 'usage' and {{ in_rebuilt_window('month_start', 'month') }}
    group by all
)

select *
from held
full outer join productivity using (month_start, team)
full outer join costs using (month_start, team)
where not {{ close_to('coalesce(held.gpu_hours, 0)', 'coalesce(productivity.gpu_hours, 0)') }}
    or not {{ close_to('coalesce(held.gpu_hours, 0)', 'coalesce(costs.gpu_hours, 0)') }}
