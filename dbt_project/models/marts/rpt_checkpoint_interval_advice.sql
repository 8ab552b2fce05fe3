-- Job family (team x model x GPU-count band): how often its attempts are interrupted, what a checkpoint costs,
-- how often it checkpoints now, Young's optimal interval sqrt(2 x MTBF x save time), and the GPU-hours per month
-- moving to it would save. Expected waste per hour of training with interval T, save time C and MTBF M:
-- C / T (blocking saves) + T / (2 M) (on average half an interval of progress lost per interruption).
with runs as (
    select * from {{ ref('int_training_runs') }}
),

intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

events as (
    select * from {{ ref('stg_training__training_events') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

attempts as (
    select
        run_id,
        attempt,
        any_value(n_gpus) as n_gpus,
        sum(duration_us) / 3600e6 as held_hours,
        sum(duration_us * n_gpus) / 3600e6 as gpu_hours,
        avg(duration_us) filter (where category = 'checkpoint') / 1e6 as mean_save_s,
        count(*) filter (where category = 'checkpoint') as saves
    from intervals
    group by all
),

interruptions as (
    -- what rolls a run back to its last checkpoint: infrastructure failures and preemptions (user crashes need
    -- a fix, not a checkpoint)
    select run_id, attempt, count(*) as interruptions
    from events
    where event = 'attempt_ended' and failure_cause in ('infra', 'preemption', 'maintenance')
    group by all
),

save_starts as (
    select
        run_id,
        attempt,
        epoch(event_at - lag(event_at) over (partition by run_id, attempt order by event_at)) as since_previous_s
    from events
    where event = 'checkpoint_started'
),

save_gaps as (
    select run_id, attempt, sum(since_previous_s) as gaps_s, count(since_previous_s) as gaps
    from save_starts
    group by all
),

families as (
    select
        coalesce(runs.team, 'unknown') as team,
        coalesce(runs.model_name, 'unknown') as model_name,
        case
            when attempts.n_gpus <= 1 then '1'
            when attempts.n_gpus <= 4 then '2-4'
            when attempts.n_gpus <= 8 then '5-8'
            when attempts.n_gpus <= 16 then '9-16'
            else '17+'
        end as gpu_band,
        attempts.*,
        coalesce(interruptions.interruptions, 0) as interruptions
    from attempts
    left join runs on attempts.run_id = runs.run_id
    left join interruptions on attempts.run_id = interruptions.run_id and attempts.attempt = interruptions.attempt
),

per_family as (
    select
        families.team,
        families.model_name,
        families.gpu_band,
        count(distinct families.run_id) as runs,
        sum(families.held_hours) as held_hours,
        sum(families.gpu_hours) as gpu_hours,
        sum(families.interruptions) as interruptions,
        sum(families.held_hours) / nullif(sum(families.interruptions), 0) as mtbf_hours,
        sum(families.mean_save_s * families.saves) / nullif(sum(families.saves), 0) as mean_save_s,
        sum(save_gaps.gaps_s) / nullif(sum(save_gaps.gaps), 0) as current_interval_s
    from families
    left join save_gaps on families.run_id = save_gaps.run_id and families.attempt = save_gaps.attempt
    group by all
),

final as (
    select
        per_family.*,
        sqrt(2 * mtbf_hours * 3600 * mean_save_s) as optimal_interval_s,
        -- waste share of training time at the current and the optimal interval
        mean_save_s / current_interval_s + current_interval_s / (2 * mtbf_hours * 3600) as current_waste_ratio,
        mean_save_s / sqrt(2 * mtbf_hours * 3600 * mean_save_s)
            + sqrt(2 * mtbf_hours * 3600 * mean_save_s) / (2 * mtbf_hours * 3600) as optimal_waste_ratio,
        gpu_hours / (epoch(telemetry_window.window_end - telemetry_window.window_start) / 86400)
            * {{ var('days_per_month') }} as gpu_hours_per_month
    from per_family
    cross join telemetry_window
)

select
    * exclude (current_waste_ratio, optimal_waste_ratio),
    current_waste_ratio,
    optimal_waste_ratio,
    greatest(current_waste_ratio - optimal_waste_ratio, 0) * gpu_hours_per_month as gpu_hours_saved_per_month
from final
