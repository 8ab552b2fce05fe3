-- one row per planned maintenance window, from the newest calendar export that lists it
with source as (
    select * from {{ source('inventory', 'maintenance_windows') }}
),

renamed as (
    select
        window_id,
        host as host_id,
        timezone('UTC', starts_at) as starts_at,
        timezone('UTC', ends_at) as ends_at,
        coalesce(kind, 'planned') as kind,
        reason
    from source
    {{ latest_partition_row('window_id') }}
)

select * from renamed
