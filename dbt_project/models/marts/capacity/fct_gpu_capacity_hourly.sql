-- GPU x UTC hour: every second the GPU existed in exactly one capacity state.
-- Observed seconds carry the state of their sample (int_gpu_hours_by_allocation_and_state); seconds without
-- telemetry are down_planned inside an announced maintenance window and down_unplanned outside one.
-- On data that does not cover the fleet (a public trace: see int_coverage), what cannot be told is not guessed:
-- without full telemetry, unobserved time outside maintenance is `unmeasured` (not down_unplanned); without
-- every job, observed time held by no known job is `unmeasured` (not idle). Those states are then NULL.
-- Built one UTC day of hours per query (dbt microbatch on hour_at); dbt gives each batch only that day of
-- its hourly inputs (they have event_time hour_at), so a daily refresh does not rescan the history.
{{ incremental_by(event_time='hour_at') }}

with spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

telemetry as (
    select * from {{ ref('int_gpu_samples_rolled_to_hour') }}
),

maintenance as (
    select * from {{ ref('stg_inventory__maintenance_windows') }}
),

coverage as (
    select * from {{ ref('int_coverage') }}
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

measured as (
    select
        states.*,
        coverage.telemetry_coverage,
        coverage.jobs_coverage,
        coverage.telemetry_coverage = 'full' as downtime_known,
        coverage.jobs_coverage = 'full' as idle_known
    from states
    cross join coverage
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
        {%- if state == 'down_unplanned' %}
        case when downtime_known then {{ us_to_s(state ~ '_us') }} end as {{ state }}_s,
        {%- elif state.startswith('idle_') %}
        case when idle_known then {{ us_to_s(state ~ '_us') }} end as {{ state }}_s,
        {%- else %}
        {{ us_to_s(state ~ '_us') }} as {{ state }}_s,
        {%- endif %}
        {%- endfor %}
        {{ us_to_s(
            '(case when downtime_known then 0 else down_unplanned_us end)'
            ~ ' + (case when idle_known then 0 else idle_hw_mismatch_us + idle_fragmented_us + idle_no_demand_us end)'
        ) }} as unmeasured_s,
        telemetry_coverage,
        jobs_coverage
    from measured
)

select * from final
