with source as (
    select * from {{ source('org', 'team_headcount') }}
),

renamed as (
    select team, strptime(month, '%Y-%m')::date as month_start, headcount
    from source
    {{ latest_partition_row('team, month') }}
)

select * from renamed
