-- Readings "while held" are taken over each holder's own held seconds: a run's utilisation in fct_training_jobs
-- and a framework's in fct_framework_adoption_monthly equal the held-seconds-weighted mean of their holders' rows
-- in fct_gpu_holder_hourly (free seconds and other holders' seconds of shared GPU-hours excluded).
-- Checked for what the refresh rebuilt (macro in_rebuilt_window): the runs that held a GPU in its days, each over
-- all its hours, and the frameworks of its months; the rest were checked when they were built.
{{ config(meta={'dagster': {'ref': {'name': 'fct_training_jobs'}}}) }}
with held as (
    select * from {{ ref('fct_gpu_holder_hourly') }}
    where allocation_source in ('slurm', 'kubernetes') and gpu_util_ratio is not null
),

rebuilt_runs as (
    select distinct workload as run_id from held where {{ in_rebuilt_window('hour_at') }}
),

per_run as (
    select workload as run_id, sum(gpu_util_ratio * held_s) / sum(held_s) as gpu_util_ratio
    from held
    where workload in (select run_id from rebuilt_runs)
    group by all
),

per_framework as (
    select
        date_trunc('month', held.hour_at)::date as month_start,
        runs.framework,
        sum(held.gpu_util_ratio * held.held_s) / sum(held.held_s) as gpu_util_ratio
    from held
    inner join {{ ref('fct_training_jobs') }} as runs on held.workload = runs.run_id
    where {{ in_rebuilt_window('held.hour_at', 'month') }}
    group by all
),

runs_off as (
    select 'run' as scope, per_run.run_id as name, per_run.gpu_util_ratio as expected, runs.gpu_util_ratio as found
    from per_run
    inner join {{ ref('fct_training_jobs') }} as runs on per_run.run_id = runs.run_id
    where not {{ close_to('per_run.gpu_util_ratio', 'coalesce(runs.gpu_util_ratio, -1)') }}
),

frameworks_off as (
    select 'framework', per_framework.framework, per_framework.gpu_util_ratio, adoption.gpu_util_ratio
    from per_framework
    inner join {{ ref('fct_framework_adoption_monthly') }} as adoption
        on per_framework.month_start = adoption.month_start
        and coalesce(per_framework.framework, 'unknown') = adoption.framework
    where not {{ close_to('per_framework.gpu_util_ratio', 'coalesce(adoption.gpu_util_ratio, -1)') }}
)

select * from runs_off
union all
select * from frameworks_off
