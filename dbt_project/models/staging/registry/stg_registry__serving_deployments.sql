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
        -- replicas on MIG instances hold their profile's share of each GPU listed
        mig_profile,
        len(string_split(gpu_indices, ';')) * coalesce({{ mig_gpu_share('mig_profile') }}, 1.0) as gpus,
        timezone('UTC', started_at) as started_at,
        timezone('UTC', ended_at) as ended_at,
        team
    from source
    {{ latest_partition_row('deployment_id') }}
)

select * from renamed
