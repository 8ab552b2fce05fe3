with source as (
    select * from {{ source('inventory', 'gpu_prices') }}
),

renamed as (
    select
        gpu_model,
        list_usd_per_gpu_hour::decimal(12, 6) as list_usd_per_gpu_hour,
        effective_usd_per_gpu_hour::decimal(12, 6) as effective_usd_per_gpu_hour
    from source
    {{ latest_partition_row('gpu_model') }}
)

select * from renamed
