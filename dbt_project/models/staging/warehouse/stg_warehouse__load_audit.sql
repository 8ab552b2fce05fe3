with source as (
    select * from {{ source('warehouse', 'load_audit') }}
),

renamed as (
    select
        table_name,
        partition_date,
        source_file,
        file_bytes,
        file_sha256,
        rows_read,
        rows_loaded,
        rows_quarantined,
        loaded_at,
        status,
        problem
    from source
)

select * from renamed
