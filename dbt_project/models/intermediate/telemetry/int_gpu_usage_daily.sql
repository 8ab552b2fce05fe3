-- Holder x UTC day: int_gpu_usage_owned summed over each holder's (job attempt's or deployment's) GPU-hours of the
-- day: the time it held GPUs, what that cost at each GPU's rate, the readings' time-weighted sums over its own
-- held time, and its held time in GPU-hours whose own share averaged low utilisation. The per-job, per-run,
-- per-model, per-team and fleet-wide marts that need a holder's whole history read this, so a refresh sums one
-- new day at the GPU x hour grain instead of the whole history. Built one UTC day per query.
{{ incremental_by(event_time='usage_date') }}

with usage_owned as (
    select * from {{ ref('int_gpu_usage_owned') }}
),

final as (
    select
        hour_at::date as usage_date,
        allocation_source,
        cluster,
        allocation_id,
        team,
        project,
        model_name,
        workload,
        sum(held_us) as held_us,
        sum(held_idle_us) as held_idle_us,
        sum({{ usd_for_us('held_us', 'usd_per_gpu_hour') }}) as held_cost_usd,
        -- a GPU-hour whose holder's own share averaged below the stall threshold (fct_training_jobs)
        coalesce(
            sum(held_us) filter (where gpu_util_ratio_x_us < {{ var('stall_util_threshold') }} * gpu_util_ratio_us),
            0
        ) as low_util_held_us,
        {%- for reading in telemetry_readings() %}
        sum({{ reading }}_x_us) as {{ reading }}_x_us,
        sum({{ reading }}_us) as {{ reading }}_us{{ "," if not loop.last }}
        {%- endfor %}
    from usage_owned
    group by all
)

select * from final
