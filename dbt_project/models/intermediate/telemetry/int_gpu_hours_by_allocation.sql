-- GPU x UTC hour x allocation: the microseconds each job or deployment held the GPU (several can share an hour).
with pieces as (
    select * from {{ ref('int_gpu_sample_pieces') }}
),

final as (
    select host_id, gpu_index, hour_at, allocation_source, allocation_id, sum(piece_us) as held_us
    from pieces
    where allocation_id is not null
    group by all
)

select * from final
