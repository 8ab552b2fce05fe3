-- One row per training run (all its attempts): who, what, how long it waited, how its end-to-end time split into
-- ETT categories (held ones and requeue_wait between attempts), its failures and how long it took to recover.
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

recoveries as (
    select * from {{ ref('int_training_recoveries') }}
),

requeue_waits as (
    select * from {{ ref('int_training_requeue_waits') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

held as (
    select * from {{ ref('int_gpu_usage_daily') }}
),

-- telemetry's view, over the seconds the run's scheduler jobs (named after it) held each GPU: utilisation, and
-- the GPU-hours in which its own share of a GPU-hour averaged low utilisation
stalled as (
    select
        workload as run_id,
        {{ us_to_hours('sum(low_util_held_us)') }} as low_util_gpu_hours,
        {{ held_mean('gpu_util_ratio') }} as gpu_util_ratio
    from held
    where allocation_source in ('slurm', 'kubernetes')
    group by workload
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

recovery_totals as (
    select run_id, count(*) as recovered_failures, sum(time_to_recover_s) as time_to_recover_s
    from recoveries
    where recovered_at is not null
    group by run_id
),

requeue_totals as (
    select
        run_id,
        {{ us_to_s("sum(duration_us)") }} as requeue_wait_s,
        {{ us_to_hours('sum(duration_us * n_gpus)') }} as requeue_wait_gpu_hours
    from requeue_waits
    group by run_id
),

gpu_time as (
    select
        run_id,
        {%- for category in ett_categories() %}
        {{ us_to_hours("coalesce(sum(duration_us * n_gpus) filter (where category = '" ~ category ~ "'), 0)") }}
            as {{ category }}_gpu_hours,
        {{ us_to_s("coalesce(sum(duration_us) filter (where category = '" ~ category ~ "'), 0)") }} as {{ category }}_s,
        {%- endfor %}
        {{ us_to_hours('sum(duration_us * n_gpus)') }} as gpu_hours,
        coalesce(sum(duration_us * n_gpus) filter (where category = 'productive'), 0)
            / nullif(sum(duration_us * n_gpus), 0) as held_goodput_ratio
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
        {{ seconds_between('runs.submitted_at', 'attempts.started_at') }} as wait_s,
        {{ seconds_between('attempts.started_at', 'coalesce(attempts.ended_at, telemetry_window.window_end)') }}
            as e2e_wall_s,
        gpu_time.productive_s,
        coalesce(requeue_totals.requeue_wait_s, 0) as requeue_wait_s,
        gpu_time.productive_s / nullif(
            {{ seconds_between('attempts.started_at', 'coalesce(attempts.ended_at, telemetry_window.window_end)') }}, 0
        ) as ett_ratio,
        gpu_time.held_goodput_ratio,
        {{ seconds_between('attempts.started_at', 'attempts.first_batch_at') }} as time_to_start_s,
        attempts.failures_infra,
        attempts.failures_user,
        attempts.preemptions,
        coalesce(recovery_totals.recovered_failures, 0) as recovered_failures,
        recovery_totals.time_to_recover_s,
        (recovery_totals.time_to_recover_s / nullif(recovery_totals.recovered_failures, 0))::decimal(18, 6)
            as time_to_recover_per_failure_s,
        stalled.gpu_util_ratio,
        coalesce(stalled.low_util_gpu_hours, 0) as low_util_gpu_hours,
        coalesce(gpu_time.gpu_hours, 0) as gpu_hours,
        {%- for category in ett_categories() %}
        coalesce(gpu_time.{{ category }}_gpu_hours, 0) as {{ category }}_gpu_hours,
        {%- endfor %}
        coalesce(requeue_totals.requeue_wait_gpu_hours, 0) as requeue_wait_gpu_hours
    from attempts
    cross join telemetry_window
    left join runs on attempts.run_id = runs.run_id
    left join gpu_time on attempts.run_id = gpu_time.run_id
    left join recovery_totals on attempts.run_id = recovery_totals.run_id
    left join requeue_totals on attempts.run_id = requeue_totals.run_id
    left join stalled on attempts.run_id = stalled.run_id
    where attempts.started_at is not null
)

select * from final
