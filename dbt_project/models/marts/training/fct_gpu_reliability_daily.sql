-- UTC day x host (with its GPU model): XID errors seen in telemetry and job failures on the host, per 1k
-- GPU-hours it existed and it was allocated. Infra failures are charged to the host that reported the XID (see
-- int_attempt_failures_charged_to_hosts) and also counted as incidents, so one dead node counts once.
with host_days as (
    select * from {{ ref('int_host_hours_daily') }}
),

failures as (
    select * from {{ ref('int_attempt_failures_charged_to_hosts') }}
),

failure_counts as (
    select
        ended_at::date as usage_date,
        host_id,
        count(*) filter (where failure_cause = 'infra' and is_charged) as infra_failures,
        count(*) filter (where is_charged_without_xid) as infra_failures_without_xid,
        -- every failed attempt that ran on the host, charged or not: the exposure view
        count(*) as job_failures
    from failures
    where outcome = 'failed'
    group by all
),

incident_counts as (
    -- an incident counts on the day it began
    select incident_started_at::date as usage_date, host_id, count(distinct incident_id) as infra_incidents
    from failures
    where failure_cause = 'infra' and is_charged
    group by all
),

final as (
    select
        host_days.*,
        coalesce(failure_counts.infra_failures, 0) as infra_failures,
        coalesce(failure_counts.infra_failures_without_xid, 0) as infra_failures_without_xid,
        coalesce(incident_counts.infra_incidents, 0) as infra_incidents,
        coalesce(failure_counts.job_failures, 0) as job_failures,
        coalesce(failure_counts.job_failures, 0) / nullif(host_days.allocated_gpu_hours / 1000, 0)
            as job_failures_per_1k_allocated_gpu_hours,
        coalesce(failure_counts.infra_failures, 0) / nullif(host_days.allocated_gpu_hours / 1000, 0)
            as infra_failures_per_1k_allocated_gpu_hours,
        coalesce(incident_counts.infra_incidents, 0) / nullif(host_days.allocated_gpu_hours / 1000, 0)
            as infra_incidents_per_1k_allocated_gpu_hours,
        host_days.xid_gpu_hours / nullif(host_days.gpu_hours / 1000, 0) as xid_gpu_hours_per_1k_gpu_hours
    from host_days
    left join failure_counts
        on host_days.usage_date = failure_counts.usage_date and host_days.host_id = failure_counts.host_id
    left join incident_counts
        on host_days.usage_date = incident_counts.usage_date and host_days.host_id = incident_counts.host_id
)

select * from final
