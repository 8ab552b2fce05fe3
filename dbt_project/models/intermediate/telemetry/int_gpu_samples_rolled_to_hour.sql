-- GPU x hour from telemetry: covered seconds, what held the GPU, time-weighted readings, energy, and the
-- covered microseconds in each capacity state (see int_gpu_sample_pieces).
-- Built one UTC day of hours per query (dbt microbatch on hour_at). The pieces are read unfiltered by dbt
-- (.render()) and selected by hour: hour 00 holds pieces of the previous day's last samples.
{{ config(
    materialized='incremental', incremental_strategy='microbatch', event_time='hour_at', batch_size='day',
    begin='2016-01-01', concurrent_batches=false
) }}

with pieces as (
    select * from {{ ref('int_gpu_sample_pieces').render() }}
    where {{ in_batch('hour_at') }}
),

by_allocation as (
    select * from {{ ref('int_gpu_hours_by_allocation').render() }}
    where {{ in_batch('hour_at') }}
),

main_allocation as (
    select
        host_id,
        gpu_index,
        hour_at,
        arg_max(allocation_id, held_us) as allocation_id,
        arg_max(allocation_source, held_us) as allocation_source,
        sum(held_us) as allocated_us,
        count(*) as allocations
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
        sum(piece_us) as observed_us,
        sum(gpu_util_ratio * piece_us) / nullif(sum(piece_us) filter (where gpu_util_ratio is not null), 0)
            as gpu_util_ratio,
        sum(sm_active_ratio * piece_us) / nullif(sum(piece_us) filter (where sm_active_ratio is not null), 0)
            as sm_active_ratio,
        sum(tensor_active_ratio * piece_us)
            / nullif(sum(piece_us) filter (where tensor_active_ratio is not null), 0) as tensor_active_ratio,
        sum(dram_active_ratio * piece_us)
            / nullif(sum(piece_us) filter (where dram_active_ratio is not null), 0) as dram_active_ratio,
        sum(fb_used_bytes * piece_us) / nullif(sum(piece_us) filter (where fb_used_bytes is not null), 0)
            as fb_used_bytes,
        sum(power_w * piece_us) / nullif(sum(piece_us) filter (where power_w is not null), 0) as power_w,
        sum(power_w * piece_us) / 3600e6 as energy_wh,
        max(gpu_temp_c) as max_gpu_temp_c,
        max(xid_error) filter (where xid_error > 0) as xid_error,
        {%- for state in capacity_states() if state != 'down_unplanned' %}
        coalesce(sum(piece_us) filter (where capacity_state = '{{ state }}'), 0) as observed_{{ state }}_us,
        {%- endfor %}
    from pieces
    group by all
),

final as (
    select
        readings.*,
        readings.observed_us / 1e6 as observed_s,
        coalesce(main_allocation.allocated_us, 0) / 1e6 as allocated_s,
        main_allocation.allocation_id,
        main_allocation.allocation_source,
        coalesce(main_allocation.allocations, 0) as allocations
    from readings
    left join main_allocation
        on readings.host_id = main_allocation.host_id
        and readings.gpu_index = main_allocation.gpu_index
        and readings.hour_at = main_allocation.hour_at
)

select * from final
