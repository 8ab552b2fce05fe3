-- one row per deployment, from the newest export that lists it
with source as (
    select * from {{ source('registry', 'serving_deployments') }}
),

renamed as (
    select
        deployment_id,
        model_name,
        model_version,
        cluster,
        host as host_id,
        list_transform(string_split(gpu_indices, ';'), lambda x: x::integer) as gpu_indices,
        timezone('UTC', started_at) as started_at,
        timezone('UTC', ended_at) as ended_at,
        team
    from source
    {{ latest_partition_row('deployment_id') }}
)

select * from renamed
