-- one row per request; files without a Model column are named after their model
with source as (
    select * from {{ source('inference', 'inference_requests') }}
),

renamed as (
    select
        timezone('UTC', timestamp) as requested_at,
        coalesce(model, regexp_extract(source_file, '([^/]+)\.csv(\.gz)?$', 1)) as model_name,
        context_tokens as input_tokens,
        generated_tokens as output_tokens,
        latency_ms,
        source_file
    from source
)

select * from renamed
