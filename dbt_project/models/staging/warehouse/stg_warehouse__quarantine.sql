with source as (
    select * from {{ source('warehouse', 'quarantine') }}
),

renamed as (
    select table_name, partition_date, source_file, source_line, reason, message
    from source
)

select * from renamed
