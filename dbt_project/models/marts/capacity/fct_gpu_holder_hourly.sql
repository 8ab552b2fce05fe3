-- GPU x UTC hour x holder (a job attempt or a serving deployment): the seconds it held the GPU, what they cost at
-- the GPU's inventory rate, its owner, and the readings averaged over its own held seconds only. Every per-team,
-- per-job, per-model, per-framework and fleet "while held" figure in the marts comes from this grain
-- (int_gpu_usage_owned); to average a reading over several rows, weight it by held_s.
-- A view: the rows are int_gpu_usage_owned's, which the daily refresh builds incrementally (its tests read the
-- rebuilt hours: event_time, macro rebuilt_window).
{{ config(materialized='view', event_time='hour_at') }}

with usage_owned as (
    select * from {{ ref('int_gpu_usage_owned') }}
),

final as (
    select
        hour_at,
        host_id,
        gpu_index,
        cluster,
        pool,
        gpu_model,
        allocation_source,
        allocation_id,
        team,
        project,
        model_name,
        workload,
        {{ us_to_s('held_us') }} as held_s,
        {{ us_to_s('held_idle_us') }} as held_idle_s,
        {{ usd_for_us('held_us', 'usd_per_gpu_hour') }} as cost_usd,
        {%- for reading in telemetry_readings() %}
        {{ reading }}_x_us / nullif({{ reading }}_us, 0) as {{ reading }},
        {%- endfor %}
        power_w_x_us / 3600e6 as energy_wh
    from usage_owned
)

select * from final
