-- One row per model per stage visit: when it entered, when it left (the next transition), how long it stayed.
with transitions as (
    select * from {{ ref('stg_registry__model_stage_events') }}
),

owners as (
    select * from {{ ref('int_model_owners') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

visits as (
    select
        model_name,
        to_stage as stage,
        model_version,
        transitioned_at as entered_at,
        lead(transitioned_at) over (partition by model_name order by transitioned_at, to_stage) as left_at,
        lead(to_stage) over (partition by model_name order by transitioned_at, to_stage) as next_stage
    from transitions
),

final as (
    select
        visits.model_name,
        owners.team,
        visits.stage,
        visits.model_version,
        visits.entered_at,
        visits.left_at,
        visits.next_stage,
        visits.left_at is null as is_current,
        {{ seconds_between('visits.entered_at', 'visits.left_at') }} as duration_s,
        -- still in the stage: how long so far, measured to the window end
        {{ seconds_between('visits.entered_at', 'coalesce(visits.left_at, telemetry_window.window_end)') }}
            as duration_so_far_s
    from visits
    cross join telemetry_window
    left join owners on visits.model_name = owners.model_name
)

select * from final
