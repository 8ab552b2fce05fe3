with source as (
    select * from {{ source('registry', 'model_stage_events') }}
),

renamed as (
    select
        model_name,
        version as model_version,
        from_stage,
        to_stage,
        timezone('UTC', event_time) as transitioned_at
    from source
    qualify row_number() over (
        partition by model_name, to_stage, event_time order by partition_date desc, source_line
    ) = 1
)

select * from renamed
