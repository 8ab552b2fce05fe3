-- Training run x UTC day x ETT category: the run's GPU-seconds, in GPU-hours, and the cost of the held ones at the
-- family's inventory rate. The categories are the held ones of int_training_intervals_classified plus
-- requeue_wait (between attempts, int_training_requeue_waits: no GPU held, no cost): together they are the run's
-- GPUs x its end-to-end time, the denominator of ETT. An interval spanning midnight counts in each day for its part.
with held as (
    select run_id, category, n_gpus, interval_start_at, interval_end_at
    from {{ ref('int_training_intervals_classified') }}
),

requeue as (
    select run_id, 'requeue_wait' as category, n_gpus, wait_start_at, wait_end_at
    from {{ ref('int_training_requeue_waits') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

rates as (
    select * from {{ ref('int_gpu_family_rates') }}
),

intervals as (
    select * from held
    union all
    select * from requeue
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
         - epoch_us(greatest(by_day.interval_start_at, by_day.day_at))) * by_day.n_gpus as gpu_us
    from by_day
),

summed as (
    select usage_date, run_id, category, sum(gpu_us) as gpu_us
    from clipped
    group by all
),

final as (
    select
        summed.usage_date,
        summed.run_id,
        coalesce(runs.team, 'unknown') as team,
        runs.gpu_family,
        summed.category,
        summed.category <> 'requeue_wait' as holds_gpus,
        {{ us_to_hours('summed.gpu_us') }} as gpu_hours,
        case when summed.category <> 'requeue_wait'
            then {{ usd_for_us('summed.gpu_us', 'rates.usd_per_gpu_hour') }}
        end as cost_usd
    from summed
    left join runs on summed.run_id = runs.run_id
    left join rates on runs.gpu_family = rates.gpu_family
)

select * from final
