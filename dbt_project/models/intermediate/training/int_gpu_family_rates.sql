with hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

final as (
    select
        skus.family as gpu_family,
        (sum(hosts.usd_per_gpu_hour * hosts.gpu_count) / nullif(sum(hosts.gpu_count), 0))::decimal(12, 6)
            as usd_per_gpu_hour
    from hosts
    inner join skus on hosts.gpu_model = skus.gpu_model
    group by skus.family
)

select * from final
