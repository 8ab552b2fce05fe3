-- one row per host validity period, from the newest snapshot that lists it
with source as (
    select * from {{ source('inventory', 'hosts') }}
),

renamed as (
    select
        host as host_id,
        cluster,
        region,
        gpu_model,
        gpu_count,
        pool,
        coalesce(nullif(reservation, ''), 'none') as reservation,
        -- money is exact: a DECIMAL rate times integer microseconds sums the same on every rerun
        usd_per_gpu_hour::decimal(12, 6) as usd_per_gpu_hour,
        timezone('UTC', valid_from) as valid_from,
        timezone('UTC', valid_to) as valid_to
    from source
    {{ latest_partition_row('host, valid_from') }}
)

select * from renamed
