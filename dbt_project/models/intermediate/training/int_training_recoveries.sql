-- One row per failed or preempted training attempt: when it ended, and when the run recovered - the first time a
-- later attempt consumed samples again (productive or lost_progress). Time to Recover is per failure: a run that
-- failed twice has two rows; a failure not (yet) recovered has recovered_at NULL.
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

failures as (
    select run_id, attempt, max(event_at) as failed_at
    from events
    where event = 'attempt_ended' and outcome in ('failed', 'preempted')
    group by all
),

final as (
    select
        failures.run_id,
        failures.attempt,
        failures.failed_at,
        min(intervals.interval_start_at) as recovered_at,
        {{ seconds_between('failures.failed_at', 'min(intervals.interval_start_at)') }} as time_to_recover_s
    from failures
    left join intervals
        on failures.run_id = intervals.run_id
        and intervals.attempt > failures.attempt
        and intervals.category in ('productive', 'lost_progress')
    group by failures.run_id, failures.attempt, failures.failed_at
)

select * from final
