-- UTC hour, whole fleet: capacity and the GPU-hours in each capacity state (the report's stacked capacity chart).
-- A state this data cannot measure stays NULL (sum of NULLs), never 0; unmeasured capacity is its own column.
-- Built one UTC day of hours per query, from that day of fct_gpu_capacity_hourly.
{{ incremental_by(event_time='hour_at') }}

with capacity as (
    select * from {{ ref('fct_gpu_capacity_hourly') }}
),

final as (
    select
        hour_at,
        count(*) as gpus,
        {{ s_to_hours('sum(existing_s)') }} as capacity_gpu_hours,
        {%- for state in capacity_states() %}
        {{ s_to_hours('sum(' ~ state ~ '_s)') }} as {{ state }}_gpu_hours,
        {%- endfor %}
        {{ s_to_hours('sum(unmeasured_s)') }} as unmeasured_gpu_hours,
        any_value(telemetry_coverage) as telemetry_coverage,
        any_value(jobs_coverage) as jobs_coverage
    from capacity
    group by all
)

select * from final
