-- one row per GPU per sample: local clock to UTC, percent to ratio, MiB to bytes
with source as (
    select * from {{ source('gpu_telemetry', 'nvidia_smi_samples') }}
),

renamed as (
    select
        hostname as host_id,
        gpu as gpu_index,
        timezone('{{ var("nvidia_smi_timezone") }}', measured_at_local::timestamp)::timestamptz as measured_at,
        gpu_uuid,
        gpu_name as gpu_model,
        utilization_gpu_pct / 100.0 as gpu_util_ratio,
        case when utilization_gpu_pct is not null then 'utilization.gpu' end as gpu_util_counter,
        utilization_memory_pct / 100.0 as mem_copy_util_ratio,
        memory_used_mib * 1048576 as fb_used_bytes,
        memory_free_mib * 1048576 as fb_free_bytes,
        power_draw_w as power_w,
        temperature_gpu_c as gpu_temp_c
    from source
    -- a sample read twice (overlapping exports) counts once
    qualify row_number() over (partition by hostname, gpu, measured_at_local order by partition_date desc, source_line) = 1
)

select * from renamed
