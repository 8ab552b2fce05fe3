-- Training attempt that failed or was preempted x host its scheduler job ran on: whether the failure is
-- charged to the host, and the incident it belongs to.
--   charged   an infra failure is charged to the job's hosts that reported an XID in telemetry within
--             xid_attribution_window_minutes of the failure; to all its hosts when none did
--             (is_charged_without_xid). Other causes are charged to every host of the job.
--   incident  failures of the same cause charged to a common host, each ending within incident_window_minutes
--             of another one of the group, are one incident (a dead node or a drain ends every attempt on it at
--             once). Groups are closed transitively, across hosts too.
-- An attempt without a scheduler record keeps one row with host_id NULL and is an incident of its own.
with recursive events as (
    select * from {{ ref('stg_training__training_events') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

telemetry as (
    select * from {{ ref('int_gpu_samples_rolled_to_hour') }}
),

ended as (
    select run_id, attempt, scheduler_job_id, cluster, event_at as ended_at, outcome, failure_cause
    from events
    where event = 'attempt_ended' and outcome in ('failed', 'preempted')
),

on_hosts as (
    select
        ended.*,
        unnest(coalesce(jobs.node_names, [null::varchar])) as host_id
    from ended
    left join jobs on ended.scheduler_job_id = jobs.scheduler_job_id and ended.cluster = jobs.cluster
),

xid_hours as (
    select distinct host_id, hour_at
    from telemetry
    where xid_error is not null
),

xid_reported as (
    -- telemetry is hourly: an XID hour counts when it overlaps the window around the failure
    select
        on_hosts.*,
        exists (
            select 1
            from xid_hours
            where xid_hours.host_id = on_hosts.host_id
                and xid_hours.hour_at <= on_hosts.ended_at + to_minutes({{ var('xid_attribution_window_minutes') }})
                and xid_hours.hour_at + interval 1 hour
                > on_hosts.ended_at - to_minutes({{ var('xid_attribution_window_minutes') }})
        ) as reported_xid
    from on_hosts
),

charged as (
    select
        *,
        bool_or(reported_xid) over (partition by run_id, attempt) as job_reported_xid,
        case
            when failure_cause <> 'infra' then true
            when bool_or(reported_xid) over (partition by run_id, attempt) then reported_xid
            else true
        end as is_charged
    from xid_reported
),

links as (
    -- pairs of failures that share an incident directly
    select a.run_id, a.attempt, b.run_id as linked_run_id, b.attempt as linked_attempt
    from charged as a
    inner join charged as b
        on a.host_id = b.host_id
        and a.failure_cause = b.failure_cause
        and abs(epoch(a.ended_at) - epoch(b.ended_at)) <= {{ var('incident_window_minutes') }} * 60
    where a.is_charged and b.is_charged
),

reachable (run_id, attempt, member_key, member_ended_at) as (
    -- every failure reaches itself, then whatever its links reach (UNION drops repeats, so this ends)
    select distinct run_id, attempt, run_id || '/' || attempt::varchar, ended_at
    from charged
    union
    select links.linked_run_id, links.linked_attempt, reachable.member_key, reachable.member_ended_at
    from reachable
    inner join links on reachable.run_id = links.run_id and reachable.attempt = links.attempt
),

incidents as (
    select
        run_id,
        attempt,
        min(member_key) as incident_id,
        min(member_ended_at) as incident_started_at
    from reachable
    group by all
),

final as (
    select
        charged.run_id,
        charged.attempt,
        charged.scheduler_job_id,
        charged.cluster,
        charged.host_id,
        charged.ended_at,
        charged.outcome,
        charged.failure_cause,
        charged.reported_xid,
        charged.is_charged,
        charged.failure_cause = 'infra' and charged.is_charged and not charged.job_reported_xid
            as is_charged_without_xid,
        incidents.incident_id,
        incidents.incident_started_at
    from charged
    inner join incidents on charged.run_id = incidents.run_id and charged.attempt = incidents.attempt
)

select * from final
