with source as (
    select * from {{ source('inference', 'inference_hourly') }}
),

renamed as (
    select
        timezone('UTC', hour_start) as hour_at,
        model_name,
        model_version,
        requests,
        input_tokens,
        output_tokens,
        latency_p50_ms,
        latency_p99_ms
    from source
    {{ latest_partition_row('model_name, hour_start') }}
)

select * from renamed
