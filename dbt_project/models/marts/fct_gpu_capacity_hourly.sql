-- GPU x UTC hour: every second the GPU existed in exactly one capacity state.
-- Observed seconds carry the state of their sample (int_gpu_sample_pieces); seconds without telemetry are
-- down_planned inside an announced maintenance window and down_unplanned outside one.
with spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

telemetry as (
    select * from {{ ref('int_gpu_samples_rolled_to_hour') }}
),

maintenance as (
    select * from {{ ref('stg_inventory__maintenance_windows') }}
),

planned as (
    select
        spine.host_id,
        spine.gpu_index,
        spine.hour_at,
        sum(epoch_us(least(maintenance.ends_at, spine.existing_until))
            - epoch_us(greatest(maintenance.starts_at, spine.existing_from))) as planned_us
    from spine
    inner join maintenance
        on spine.host_id = maintenance.host_id
        and maintenance.starts_at < spine.existing_until
        and maintenance.ends_at > spine.existing_from
    group by all
),

states as (
    select
        spine.*,
        coalesce(telemetry.observed_us, 0) as observed_us,
        coalesce(planned.planned_us, 0) as down_planned_us,
        -- unobserved time outside maintenance = unobserved - (maintenance - observed inside maintenance)
        spine.existing_us - coalesce(telemetry.observed_us, 0)
        - (coalesce(planned.planned_us, 0) - coalesce(telemetry.observed_down_planned_us, 0)) as down_unplanned_us,
        {%- for state in capacity_states() if state not in ('down_unplanned', 'down_planned') %}
        coalesce(telemetry.observed_{{ state }}_us, 0) as {{ state }}_us{{ "," if not loop.last }}
        {%- endfor %}
    from spine
    left join telemetry
        on spine.host_id = telemetry.host_id
        and spine.gpu_index = telemetry.gpu_index
        and spine.hour_at = telemetry.hour_at
    left join planned
        on spine.host_id = planned.host_id
        and spine.gpu_index = planned.gpu_index
        and spine.hour_at = planned.hour_at
),

final as (
    select
        hour_at,
        host_id,
        gpu_index,
        gpu_model,
        cluster,
        region,
        pool,
        reservation,
        usd_per_gpu_hour,
        {{ us_to_s('existing_us') }} as existing_s,
        {{ us_to_s('observed_us') }} as observed_s,
        {%- for state in capacity_states() %}
        {{ us_to_s(state ~ '_us') }} as {{ state }}_s{{ "," if not loop.last }}
        {%- endfor %}
    from states
)

select * from final
