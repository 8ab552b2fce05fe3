-- UTC day x host (with its GPU model): XID errors seen in telemetry and job failures on the host, per 1k
-- GPU-hours it existed and it was allocated.
with gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

events as (
    select * from {{ ref('stg_training__training_events') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

failures as (
    -- an attempt's failure counts on every host its scheduler job ran on
    select
        events.event_at::date as usage_date,
        unnest(jobs.node_names) as host_id,
        events.failure_cause
    from events
    inner join jobs
        on events.scheduler_job_id = jobs.scheduler_job_id and events.cluster = jobs.cluster
    where events.event = 'attempt_ended' and events.outcome = 'failed'
),

failure_counts as (
    select
        usage_date,
        host_id,
        count(*) filter (where failure_cause = 'infra') as infra_failures,
        count(*) as job_failures
    from failures
    group by all
),

host_days as (
    select
        hour_at::date as usage_date,
        host_id,
        any_value(gpu_model) as gpu_model,
        any_value(cluster) as cluster,
        {{ s_to_hours('sum(existing_s)') }} as gpu_hours,
        {{ s_to_hours('sum(allocated_s)') }} as allocated_gpu_hours,
        count(*) filter (where xid_error is not null) as xid_gpu_hours,
        count(distinct gpu_index) filter (where xid_error is not null) as gpus_with_xid,
        list_sort(list_distinct(list(xid_error) filter (where xid_error is not null))) as xid_codes
    from gpu_hours
    group by all
),

final as (
    select
        host_days.*,
        coalesce(failure_counts.infra_failures, 0) as infra_failures,
        coalesce(failure_counts.job_failures, 0) as job_failures,
        coalesce(failure_counts.job_failures, 0) / nullif(host_days.allocated_gpu_hours / 1000, 0)
            as job_failures_per_1k_allocated_gpu_hours,
        coalesce(failure_counts.infra_failures, 0) / nullif(host_days.allocated_gpu_hours / 1000, 0)
            as infra_failures_per_1k_allocated_gpu_hours,
        host_days.xid_gpu_hours / nullif(host_days.gpu_hours / 1000, 0) as xid_gpu_hours_per_1k_gpu_hours
    from host_days
    left join failure_counts
        on host_days.usage_date = failure_counts.usage_date and host_days.host_id = failure_counts.host_id
)

select * from final
