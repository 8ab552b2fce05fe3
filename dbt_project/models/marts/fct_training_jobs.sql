-- One row per training run (all its attempts): who, what, how long it waited, how its GPU time split into
-- ETT categories, its failures and how long it took to recover from them.
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

-- telemetry's view: hours in which the run's GPUs (its scheduler jobs are named after it) averaged low util
stalled as (
    select
        allocated_workload as run_id,
        sum(allocated_s) filter (where gpu_util_ratio < {{ var('stall_util_threshold') }}) / 3600
            as low_util_gpu_hours,
        sum(gpu_util_ratio * allocated_s) / nullif(sum(allocated_s) filter (where gpu_util_ratio is not null), 0)
            as gpu_util_ratio
    from gpu_hours
    where allocation_source in ('slurm', 'kubernetes')
    group by allocated_workload
),

attempts as (
    select
        run_id,
        count(distinct attempt) filter (where event = 'allocated') as attempts,
        min(event_at) filter (where event = 'allocated') as started_at,
        min(event_at) filter (where event = 'first_batch' and attempt = 1) as first_batch_at,
        max(n_gpus) filter (where event = 'allocated') as gpus,
        arg_max(scheduler_job_id, attempt) as last_scheduler_job_id,
        arg_min(scheduler_job_id, attempt) as first_scheduler_job_id,
        arg_min(cluster, attempt) as cluster,
        max(event_at) filter (where event = 'job_ended') as ended_at,
        arg_max(final_state, event_at) filter (where event = 'job_ended') as final_state,
        max(model_version) filter (where event = 'job_ended') as model_version,
        count(*) filter (where event = 'attempt_ended' and failure_cause = 'infra') as failures_infra,
        count(*) filter (where event = 'attempt_ended' and failure_cause = 'user') as failures_user,
        count(*) filter (where event = 'attempt_ended' and failure_cause in ('preemption', 'maintenance'))
            as preemptions
    from events
    group by run_id
),

-- a failure is recovered when a later attempt starts consuming new samples again
failures as (
    select run_id, attempt, max(event_at) as failed_at
    from events
    where event = 'attempt_ended' and outcome in ('failed', 'preempted')
    group by all
),

recoveries as (
    select
        failures.run_id,
        failures.attempt,
        epoch(min(intervals.interval_start_at) - failures.failed_at) as time_to_recover_s
    from failures
    inner join intervals
        on failures.run_id = intervals.run_id
        and intervals.attempt > failures.attempt
        and intervals.category in ('productive', 'lost_progress')
    group by failures.run_id, failures.attempt, failures.failed_at
),

recovery_totals as (
    select run_id, count(*) as recovered_failures, sum(time_to_recover_s) as time_to_recover_s
    from recoveries
    group by run_id
),

gpu_time as (
    select
        run_id,
        {%- for category in ett_categories() %}
        coalesce(sum(duration_us * n_gpus) filter (where category = '{{ category }}'), 0) / 3600e6
            as {{ category }}_gpu_hours,
        coalesce(sum(duration_us) filter (where category = '{{ category }}'), 0) / 1e6 as {{ category }}_s,
        {%- endfor %}
        sum(duration_us * n_gpus) / 3600e6 as gpu_hours
    from intervals
    group by run_id
),

final as (
    select
        attempts.run_id,
        runs.team,
        runs.project,
        runs.user_pseudonym,
        runs.model_name,
        case runs.framework when 'pt2' then 'PT2 compiled' when 'pt1' then 'PT1 eager' end as framework,
        attempts.gpus,
        runs.gpu_model,
        runs.gpu_family,
        attempts.cluster,
        attempts.first_scheduler_job_id,
        runs.submitted_at,
        attempts.started_at,
        attempts.ended_at,
        coalesce(attempts.final_state, 'running') as final_state,
        attempts.model_version,
        attempts.attempts,
        epoch(attempts.started_at - runs.submitted_at) as wait_s,
        epoch(coalesce(attempts.ended_at, telemetry_window.window_end) - attempts.started_at) as e2e_wall_s,
        gpu_time.productive_s,
        gpu_time.productive_s
            / nullif(epoch(coalesce(attempts.ended_at, telemetry_window.window_end) - attempts.started_at), 0)
            as ett_ratio,
        epoch(attempts.first_batch_at - attempts.started_at) as time_to_start_s,
        attempts.failures_infra,
        attempts.failures_user,
        attempts.preemptions,
        coalesce(recovery_totals.recovered_failures, 0) as recovered_failures,
        recovery_totals.time_to_recover_s,
        recovery_totals.time_to_recover_s / nullif(recovery_totals.recovered_failures, 0) as time_to_recover_per_failure_s,
        stalled.gpu_util_ratio,
        coalesce(stalled.low_util_gpu_hours, 0) as low_util_gpu_hours,
        coalesce(gpu_time.gpu_hours, 0) as gpu_hours,
        {%- for category in ett_categories() %}
        coalesce(gpu_time.{{ category }}_gpu_hours, 0) as {{ category }}_gpu_hours{{ "," if not loop.last }}
        {%- endfor %}
    from attempts
    cross join telemetry_window
    left join runs on attempts.run_id = runs.run_id
    left join gpu_time on attempts.run_id = gpu_time.run_id
    left join recovery_totals on attempts.run_id = recovery_totals.run_id
    left join stalled on attempts.run_id = stalled.run_id
    where attempts.started_at is not null
)

select * from final
