-- every GPU sample in one canonical shape, whichever collector produced it
with dcgm as (
    select * from {{ ref('stg_gpu_telemetry__dcgm_samples') }}
),

columnar as (
    select * from {{ ref('stg_gpu_telemetry__columnar_samples') }}
),

nvidia_smi as (
    select * from {{ ref('stg_gpu_telemetry__nvidia_smi_samples') }}
),

unioned as (
    select *, 'dcgm-exporter' as source_format from dcgm
    union all by name
    select *, 'columnar' as source_format from columnar
    union all by name
    select *, 'nvidia-smi' as source_format from nvidia_smi
),

final as (
    select * from unioned
    -- a host scraped by several collectors counts once; columnar and dcgm-exporter have more fields
    qualify row_number() over (partition by host_id, gpu_index, measured_at order by source_format) = 1
)

select * from final
