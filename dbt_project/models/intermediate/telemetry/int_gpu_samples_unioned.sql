-- every GPU sample in one canonical shape, whichever collector produced it. A view: copying a fleet's samples
-- once more would cost more than the union. The same instant from two collectors is resolved where the samples
-- are turned into time (int_gpu_hours_by_allocation_and_state): the richer collector's sample covers it.
{{ config(materialized='view') }}
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
)

select * from unioned
