-- GPU x hour from telemetry: covered seconds, the seconds any holder held the GPU and how many holders it had,
-- its primary holder (the one holding it longest: a label for browsing, never a basis for attributing hours or
-- readings, which int_gpu_hours_by_allocation does per holder), time-weighted readings over every covered second,
-- energy, and the covered microseconds in each capacity state (see int_gpu_hours_by_allocation_and_state).
-- Built one UTC day of hours per query (dbt microbatch on hour_at). The classified time is read unfiltered by dbt
-- (.render()) and selected by hour: hour 00 has rows from the previous day's last samples too.
{{ incremental_by(event_time='hour_at') }}

with classified as (
    select * from {{ ref('int_gpu_hours_by_allocation_and_state').render() }}
    where {{ in_batch('hour_at') }}
),

by_allocation as (
    select * from {{ ref('int_gpu_hours_by_allocation').render() }}
    where {{ in_batch('hour_at') }}
),

holders as (
    select
        host_id,
        gpu_index,
        hour_at,
        -- ties broken by id, so a rebuild names the same primary holder
        arg_max(allocation_id, (held_us, allocation_id)) as primary_allocation_id,
        arg_max(allocation_source, (held_us, allocation_id)) as primary_allocation_source,
        sum(held_us) as allocated_us,
        count(*) as holders
    from by_allocation
    group by all
),

readings as (
    select
        host_id,
        gpu_index,
        hour_at,
        any_value(gpu_uuid) as gpu_uuid,
        any_value(gpu_model) as telemetry_gpu_model,
        any_value(source_format) as source_format,
        any_value(gpu_util_counter) as gpu_util_counter,
        bool_or(mig_partitioned) as mig_partitioned,
        sum(covered_us) as observed_us,
        {%- for reading in telemetry_readings() %}
        sum({{ reading }}_x_us) / nullif(sum({{ reading }}_us), 0) as {{ reading }},
        {%- endfor %}
        sum(power_w_x_us) / 3600e6 as energy_wh,
        max(max_gpu_temp_c) as max_gpu_temp_c,
        max(xid_error) as xid_error,
        {%- for state in capacity_states() if state != 'down_unplanned' %}
        coalesce(sum(covered_us) filter (where capacity_state = '{{ state }}'), 0) as observed_{{ state }}_us,
        {%- endfor %}
    from classified
    group by all
),

final as (
    select
        readings.*,
        coalesce(holders.allocated_us, 0) as allocated_us,
        holders.primary_allocation_id,
        holders.primary_allocation_source,
        coalesce(holders.holders, 0) as holders
    from readings
    left join holders
        on readings.host_id = holders.host_id
        and readings.gpu_index = holders.gpu_index
        and readings.hour_at = holders.hour_at
)

select * from final
