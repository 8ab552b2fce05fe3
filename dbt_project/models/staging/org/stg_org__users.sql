with source as (
    select * from {{ source('org', 'users') }}
),

renamed as (
    select user_name, team
    from source
    {{ latest_partition_row('user_name') }}
)

select * from renamed
