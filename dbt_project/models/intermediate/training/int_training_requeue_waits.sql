-- Training run x wait between attempts: after an attempt ends (failed, preempted), the run waits in the queue
-- until its next attempt holds GPUs again - or, with no next attempt, until the run ends (cancelled while
-- waiting) or the window ends (still waiting). It holds no GPU then, but it is part of the run's end-to-end time,
-- so ETT counts it (category requeue_wait, as many GPUs as the attempt it waits for).
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

attempts as (
    select
        run_id,
        attempt,
        min(event_at) filter (where event = 'allocated') as allocated_at,
        max(n_gpus) filter (where event = 'allocated') as n_gpus,
        max(event_at) filter (where event = 'attempt_ended') as attempt_ended_at
    from events
    where attempt is not null
    group by all
),

run_ends as (
    select run_id, max(event_at) filter (where event = 'job_ended') as run_ended_at
    from events
    group by run_id
),

sequenced as (
    select
        attempts.*,
        lead(attempts.allocated_at) over (partition by attempts.run_id order by attempts.attempt)
            as next_allocated_at,
        lead(attempts.n_gpus) over (partition by attempts.run_id order by attempts.attempt) as next_n_gpus
    from attempts
    where attempts.allocated_at is not null
),

final as (
    select
        sequenced.run_id,
        sequenced.attempt as after_attempt,
        coalesce(sequenced.next_n_gpus, sequenced.n_gpus) as n_gpus,
        sequenced.attempt_ended_at as wait_start_at,
        coalesce(sequenced.next_allocated_at, run_ends.run_ended_at, telemetry_window.window_end) as wait_end_at,
        epoch_us(coalesce(sequenced.next_allocated_at, run_ends.run_ended_at, telemetry_window.window_end))
            - epoch_us(sequenced.attempt_ended_at) as duration_us
    from sequenced
    left join run_ends on sequenced.run_id = run_ends.run_id
    cross join telemetry_window
    where sequenced.attempt_ended_at is not null
        and coalesce(sequenced.next_allocated_at, run_ends.run_ended_at, telemetry_window.window_end)
            > sequenced.attempt_ended_at
)

select * from final
