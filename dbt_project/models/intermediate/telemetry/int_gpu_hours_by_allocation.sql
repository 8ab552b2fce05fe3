-- GPU x UTC hour x allocation: the microseconds each job or deployment held the GPU (several can share an hour).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='hour_at') }}

with pieces as (
    select * from {{ ref('int_gpu_sample_pieces') }}
    {%- if is_incremental() %}
    -- incremental: the hours of the days int_gpu_sample_pieces rebuilt (see macros/reprocess_from.sql)
    where hour_at >= {{ reprocess_from('hour_at', is_hour=true) }}
    {%- endif %}
),

final as (
    select host_id, gpu_index, hour_at, allocation_source, allocation_id, sum(piece_us) as held_us
    from pieces
    where allocation_id is not null
    group by all
)

select * from final
