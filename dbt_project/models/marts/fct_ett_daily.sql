-- UTC day x team (and the whole fleet): training GPU-hours split into ETT categories; ett_ratio = productive
-- GPU-hours / all GPU-hours training runs held that day (a GPU-hour-weighted ETT).
with intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

runs as (
    select run_id, team from {{ ref('fct_training_jobs') }}
),

by_day as (
    -- an interval that spans midnight counts in each day for its part of the day
    select
        intervals.*,
        unnest(generate_series(
            date_trunc('day', intervals.interval_start_at),
            intervals.interval_end_at - interval 1 microsecond,
            interval 1 day
        )) as day_at
    from intervals
),

clipped as (
    select
        by_day.day_at::date as usage_date,
        coalesce(runs.team, 'unknown') as team,
        by_day.category,
        (epoch_us(least(by_day.interval_end_at, by_day.day_at + interval 1 day))
         - epoch_us(greatest(by_day.interval_start_at, by_day.day_at))) * by_day.n_gpus / 3600e6 as gpu_hours
    from by_day
    left join runs on by_day.run_id = runs.run_id
),

final as (
    select
        usage_date,
        case when grouping(team) = 1 then 'fleet' else 'team' end as scope,
        coalesce(team, 'all') as team,
        sum(gpu_hours) as training_gpu_hours,
        {%- for category in ett_categories() %}
        coalesce(sum(gpu_hours) filter (where category = '{{ category }}'), 0) as {{ category }}_gpu_hours,
        {%- endfor %}
        coalesce(sum(gpu_hours) filter (where category = 'productive'), 0) / nullif(sum(gpu_hours), 0) as ett_ratio
    from clipped
    group by grouping sets ((usage_date), (usage_date, team))
)

select * from final
