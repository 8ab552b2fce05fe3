-- Training run x UTC day x ETT category: GPU-hours held and their cost at the family's inventory rate.
-- An interval spanning midnight counts in each day for its part.
with intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

rates as (
    select * from {{ ref('int_gpu_family_rates') }}
),

by_day as (
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
        by_day.run_id,
        by_day.category,
        (epoch_us(least(by_day.interval_end_at, by_day.day_at + interval 1 day))
         - epoch_us(greatest(by_day.interval_start_at, by_day.day_at))) * by_day.n_gpus / 3600e6 as gpu_hours
    from by_day
),

final as (
    select
        clipped.usage_date,
        clipped.run_id,
        coalesce(runs.team, 'unknown') as team,
        runs.gpu_family,
        clipped.category,
        sum(clipped.gpu_hours) as gpu_hours,
        sum(clipped.gpu_hours) * any_value(rates.usd_per_gpu_hour) as cost_usd
    from clipped
    left join runs on clipped.run_id = runs.run_id
    left join rates on runs.gpu_family = rates.gpu_family
    group by all
)

select * from final
