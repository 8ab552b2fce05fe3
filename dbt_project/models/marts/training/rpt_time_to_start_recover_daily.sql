-- UTC day: time to start (over the training runs whose first attempt started that day) and time to recover (over
-- the failures recovered that day), median and 90th percentile, seconds - the fleet report's trend. The medians
-- over the window are rpt_fleet_summary's; a day without a start or a recovery has NULLs (nothing to measure).
with training_runs as (
    select * from {{ ref('fct_training_jobs') }}
),

recoveries as (
    select * from {{ ref('int_training_recoveries') }}
),

starts as (
    select
        started_at::date as usage_date,
        count(*) as runs_started,
        median(time_to_start_s) as median_time_to_start_s,
        quantile_cont(time_to_start_s, 0.9) as p90_time_to_start_s
    from training_runs
    where time_to_start_s is not null
    group by all
),

recovered as (
    select
        recovered_at::date as usage_date,
        count(*) as recovered_failures,
        median(time_to_recover_s) as median_time_to_recover_s,
        quantile_cont(time_to_recover_s, 0.9) as p90_time_to_recover_s
    from recoveries
    where time_to_recover_s is not null
    group by all
),

final as (
    select
        coalesce(starts.usage_date, recovered.usage_date) as usage_date,
        coalesce(starts.runs_started, 0) as runs_started,
        starts.median_time_to_start_s,
        starts.p90_time_to_start_s,
        coalesce(recovered.recovered_failures, 0) as recovered_failures,
        recovered.median_time_to_recover_s,
        recovered.p90_time_to_recover_s
    from starts
    full outer join recovered on starts.usage_date = recovered.usage_date
)

select * from final
