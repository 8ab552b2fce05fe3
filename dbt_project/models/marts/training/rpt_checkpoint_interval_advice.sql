-- Job family (team x model x GPU-count band): how often its attempts are interrupted, what a checkpoint costs,
-- how often it checkpoints now, Young's optimal interval sqrt(2 x MTBF x save time), and the GPU-hours per month
-- moving to it would save. Expected waste per hour of training with interval T, save time C and MTBF M:
-- C / T (blocking saves) + T / (2 M) (on average half an interval of progress lost per interruption).
-- M is shrunk toward the band's rate, the band's toward the fleet's (macro shrunk_mtbf_hours); a family is
-- advised only when it has checkpoint_advice_min_incidents incidents and its current interval lies outside
-- Young's interval over the MTBF's credible interval.
with runs as (
    select * from {{ ref('int_training_runs') }}
),

intervals as (
    select * from {{ ref('int_training_intervals_classified') }}
),

events as (
    select * from {{ ref('stg_training__training_events') }}
),

failures as (
    select * from {{ ref('int_attempt_failures_charged_to_hosts') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

attempts as (
    select
        run_id,
        attempt,
        any_value(n_gpus) as n_gpus,
        {{ us_to_hours('sum(duration_us)') }} as held_hours,
        {{ us_to_hours('sum(duration_us * n_gpus)') }} as gpu_hours
    from intervals
    group by all
),

interruptions as (
    -- what rolls a run back to its last checkpoint: infrastructure failures and preemptions (user crashes need
    -- a fix, not a checkpoint); one row per attempt (failures has one per host)
    select distinct run_id, attempt, incident_id
    from failures
    where failure_cause in ('infra', 'preemption', 'maintenance')
),

checkpoint_events as (
    select
        run_id,
        attempt,
        event,
        event_at,
        lead(event) over save_order as next_event,
        lead(event_at) over save_order as next_event_at
    from events
    where event in ('checkpoint_started', 'checkpoint_saved')
    -- at one instant a save's end sorts before the next save's start ('checkpoint_saved' < 'checkpoint_started')
    window save_order as (partition by run_id, attempt order by event_at, event)
),

saves as (
    -- Young's C is what a save costs when it completes (started -> saved); a save cut short by the attempt's end
    -- never finished
    select run_id, attempt, sum({{ seconds_between('event_at', 'next_event_at') }}) as save_s, count(*) as saves
    from checkpoint_events
    where event = 'checkpoint_started' and next_event = 'checkpoint_saved'
    group by all
),

save_starts as (
    select
        run_id,
        attempt,
        {{ seconds_between('lag(event_at) over (partition by run_id, attempt order by event_at)', 'event_at') }}
            as since_previous_s
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
        interruptions.incident_id,
        (interruptions.run_id is not null)::integer as interruptions,
        saves.save_s,
        saves.saves,
        save_gaps.gaps_s,
        save_gaps.gaps
    from attempts
    left join runs on attempts.run_id = runs.run_id
    left join interruptions on attempts.run_id = interruptions.run_id and attempts.attempt = interruptions.attempt
    left join saves on attempts.run_id = saves.run_id and attempts.attempt = saves.attempt
    left join save_gaps on attempts.run_id = save_gaps.run_id and attempts.attempt = save_gaps.attempt
),

fleet as (
    -- the top of the hierarchy: the fleet's interruptions per attempt-hour, unshrunk
    select sum(held_hours) / nullif(sum(interruptions), 0) as fleet_mtbf_hours
    from families
),

bands as (
    select
        families.gpu_band,
        count(distinct families.incident_id) as band_incidents,
        {{ shrunk_mtbf_hours('sum(families.held_hours)', 'sum(families.interruptions)',
            'count(distinct families.incident_id)', 'any_value(fleet.fleet_mtbf_hours)') }} as band_mtbf_hours
    from families
    cross join fleet
    group by all
),

per_family as (
    select
        team,
        model_name,
        gpu_band,
        count(distinct run_id) as runs,
        sum(held_hours) as held_hours,
        sum(gpu_hours) as gpu_hours,
        sum(interruptions) as interruptions,
        count(distinct incident_id) as incidents,
        sum(held_hours) / nullif(sum(interruptions), 0) as observed_mtbf_hours,
        coalesce(sum(saves), 0) as saves,
        (sum(save_s) / nullif(sum(saves), 0))::decimal(18, 6) as mean_save_s,
        (sum(gaps_s) / nullif(sum(gaps), 0))::decimal(18, 6) as current_interval_s
    from families
    group by all
),

shrunk as (
    select
        per_family.*,
        bands.band_incidents,
        bands.band_mtbf_hours as prior_mtbf_hours,
        {{ shrunk_mtbf_hours('per_family.held_hours', 'per_family.interruptions', 'per_family.incidents',
            'bands.band_mtbf_hours') }} as mtbf_hours,
        -- the posterior's shape; the rate is mtbf_hours x shape (see the macro)
        per_family.incidents + {{ var('checkpoint_prior_incidents') }} as posterior_shape
    from per_family
    left join bands on per_family.gpu_band = bands.gpu_band
),

bounded as (
    select
        * exclude (posterior_shape),
        -- a higher rate quantile is a shorter MTBF
        2 * mtbf_hours * posterior_shape
            / nullif({{ chi2_quantile('2 * posterior_shape', var('checkpoint_advice_z')) }}, 0) as mtbf_low_hours,
        2 * mtbf_hours * posterior_shape
            / nullif({{ chi2_quantile('2 * posterior_shape', -var('checkpoint_advice_z')) }}, 0) as mtbf_high_hours
    from shrunk
),

intervals_advised as (
    select
        *,
        sqrt(2 * mtbf_hours * 3600 * mean_save_s) as optimal_interval_s,
        sqrt(2 * mtbf_low_hours * 3600 * mean_save_s) as optimal_interval_low_s,
        sqrt(2 * mtbf_high_hours * 3600 * mean_save_s) as optimal_interval_high_s
    from bounded
),

final as (
    select
        intervals_advised.*,
        coalesce(
            incidents >= {{ var('checkpoint_advice_min_incidents') }}
            and (current_interval_s < optimal_interval_low_s or current_interval_s > optimal_interval_high_s),
            false
        ) as is_advised,
        gpu_hours / (epoch(telemetry_window.window_end - telemetry_window.window_start) / 86400)
            * {{ var('days_per_month') }} as gpu_hours_per_month,
        -- waste share of training time at the current and the optimal interval
        mean_save_s / current_interval_s + current_interval_s / (2 * mtbf_hours * 3600) as current_waste_ratio,
        mean_save_s / optimal_interval_s + optimal_interval_s / (2 * mtbf_hours * 3600) as optimal_waste_ratio
    from intervals_advised
    cross join telemetry_window
)

select
    * exclude (current_waste_ratio, optimal_waste_ratio),
    current_waste_ratio,
    optimal_waste_ratio,
    -- no advice is no saving figure, not a saving of 0 (Young's interval minimises the waste, so an advised
    -- family's difference is positive)
    case when is_advised then (current_waste_ratio - optimal_waste_ratio) * gpu_hours_per_month end
        as gpu_hours_saved_per_month
from final
