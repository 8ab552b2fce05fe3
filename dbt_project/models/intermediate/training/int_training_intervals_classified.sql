-- Training runs cut into intervals between consecutive lifecycle events of an attempt, each with the state
-- the earlier event set, classified into the time categories of Effective Training Time (ETT):
--   start_overhead   allocation -> first batch of the first attempt (launcher, init, PT2 compile)
--   recovery         allocation -> first batch of a later attempt, and replaying samples consumed before
--   productive       training on new samples that were kept
--   lost_progress    training on new samples after the last saved checkpoint of an attempt that failed or
--                    was preempted (they are consumed again, as replay, by the next attempt)
--   checkpoint       blocking checkpoint saves
--   data_stall       waiting for the input pipeline
--   publishing       publishing the model on the GPUs
--   other            anything else while the attempt held its GPUs
-- An attempt still running is measured to the window end. A train interval's new/replayed split is the
-- one reported by the progress event that closes it.
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

attempt_events as (
    select
        *,
        -- at equal timestamps, closing events come before opening ones, and the attempt's end comes last
        case
            when event in ('attempt_ended', 'job_ended') then 2
            when event in ('allocated', 'first_batch') or event like '%_started' then 1
            else 0
        end as event_rank
    from events
    where attempt is not null
        and not (event like 'publish_%' and device = 'cpu')  -- CPU publishing holds no GPU
        and event <> 'submitted'
),

sequenced as (
    select
        *,
        lead(event_at) over attempt_order as next_event_at,
        lead(event) over attempt_order as next_event,
        lead(samples_new) over attempt_order as next_samples_new,
        lead(samples_replayed) over attempt_order as next_samples_replayed,
        max(case when event = 'allocated' then n_gpus end) over (partition by run_id, attempt) as attempt_gpus,
        max(case when event = 'attempt_ended' then outcome end) over (partition by run_id, attempt)
            as attempt_outcome,
        max(case when event = 'attempt_ended' then event_at end) over (partition by run_id, attempt)
            as attempt_ended_at,
        max(case when event = 'checkpoint_saved' then event_at end) over (partition by run_id, attempt)
            as last_checkpoint_at,
        min(case when event = 'first_batch' then event_at end) over (partition by run_id, attempt)
            as first_batch_at
    from attempt_events
    window attempt_order as (partition by run_id, attempt order by event_at, event_rank)
),

intervals as (
    select
        sequenced.*,
        case
            when event in ('allocated', 'init_started', 'init_finished', 'compile_started', 'compile_finished')
                then 'starting'
            when event in ('first_batch', 'progress', 'checkpoint_saved', 'data_stall_finished') then 'train'
            when event = 'checkpoint_started' then 'checkpoint'
            when event = 'data_stall_started' then 'data_stall'
            when event = 'publish_started' then 'publishing'
            else 'other'
        end as phase,
        event_at as interval_start_at,
        -- the last event of a running attempt: the phase lasts until the window end
        coalesce(next_event_at, case when attempt_ended_at is null then telemetry_window.window_end end)
            as interval_end_at
    from sequenced
    cross join telemetry_window
    where event not in ('attempt_ended', 'job_ended')
),

split as (
    select
        *,
        epoch_us(interval_end_at) - epoch_us(interval_start_at) as duration_us,
        case
            when phase = 'train' and next_event = 'progress' and next_samples_new + next_samples_replayed > 0
                then next_samples_replayed / (next_samples_new + next_samples_replayed)
            else 0
        end as replay_fraction
    from intervals
    where interval_end_at > interval_start_at
),

replay_cut as (
    select *, round(duration_us * replay_fraction)::bigint as replay_us from split
),

categorized as (
    -- a train interval that replays samples first replays (recovery), then consumes new ones
    select
        *,
        'replay' as part,
        interval_start_at as part_start_at,
        interval_start_at + to_microseconds(replay_us) as part_end_at
    from replay_cut
    where replay_us > 0
    union all
    select
        *,
        'main' as part,
        interval_start_at + to_microseconds(replay_us) as part_start_at,
        interval_end_at as part_end_at
    from replay_cut
),

final as (
    select
        run_id,
        attempt,
        scheduler_job_id,
        cluster,
        attempt_gpus as n_gpus,
        attempt_outcome,
        attempt_ended_at,
        part_start_at as interval_start_at,
        part_end_at as interval_end_at,
        epoch_us(part_end_at) - epoch_us(part_start_at) as duration_us,
        case
            when part = 'replay' then 'recovery'
            when phase = 'starting' and attempt = 1 then 'start_overhead'
            when phase = 'starting' then 'recovery'
            when phase = 'train'
                and attempt_outcome in ('failed', 'preempted')
                and interval_start_at >= coalesce(last_checkpoint_at, first_batch_at)
                then 'lost_progress'
            when phase = 'train' then 'productive'
            when phase in ('checkpoint', 'data_stall', 'publishing') then phase
            else 'other'
        end as category
    from categorized
    where part_end_at > part_start_at
)

select * from final
