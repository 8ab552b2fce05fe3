-- Both ways of allocating the idle cost must add up to the month's fleet cost (capacity x inventory rate): the
-- idle line exactly (DECIMAL), the shared-back column to the rounding of each team's share (a micro-dollar each).
{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_allocation_monthly'}}}) }}
with bill as (
    select
        date_trunc('month', hour_at)::date as month_start,
        sum({{ usd_for_us('existing_us', 'usd_per_gpu_hour') }}) as fleet_cost_usd
    from {{ ref('int_gpu_hours_spined') }}
    where {{ in_rebuilt_window('hour_at', 'month') }}
    group by all
),

allocated as (
    select month_start, sum(cost_usd) as idle_as_line, sum(cost_shared_idle_usd) as idle_shared
    from {{ ref('fct_cost_allocation_monthly') }}
    where {{ in_rebuilt_window('month_start', 'month') }}
    group by all
)

select *
from bill
full outer join allocated using (month_start)
where coalesce(bill.fleet_cost_usd, 0) <> coalesce(allocated.idle_as_line, 0)
    or not {{ close_to('coalesce(bill.fleet_cost_usd, 0)', 'coalesce(allocated.idle_shared, 0)') }}
