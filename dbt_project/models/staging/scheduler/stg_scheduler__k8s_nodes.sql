-- one row per Kubernetes node and export day: how its GPUs are shared, from the labels GPU Feature Discovery
-- (NVIDIA GPU Operator) puts on it (kubectl get nodes -o json, a file per cluster)
with source as (
    select * from {{ source('scheduler', 'k8s_nodes') }}
    where kind = 'Node'
),

extracted as (
    select
        metadata ->> '$.name' as host_id,
        regexp_extract(source_file, '([^/]+)\.jsonl?$', 1) as cluster,
        metadata ->> '$.labels."nvidia.com/gpu.product"' as gpu_product,
        try_cast(metadata ->> '$.labels."nvidia.com/gpu.count"' as integer) as gpu_count,
        try_cast(metadata ->> '$.labels."nvidia.com/gpu.replicas"' as integer) as declared_replicas,
        metadata ->> '$.labels."nvidia.com/gpu.sharing-strategy"' as declared_sharing,
        metadata ->> '$.labels."nvidia.com/mig.strategy"' as mig_strategy,
        try_cast(status ->> '$.capacity."nvidia.com/gpu"' as integer) as advertised_gpus,
        partition_date
    from source
),

final as (
    select
        host_id,
        cluster,
        gpu_product,
        gpu_count,
        -- each physical GPU is advertised as this many nvidia.com/gpu (time-slicing or MPS replicas; 1 = not shared)
        greatest(coalesce(declared_replicas, 1), 1) as gpu_replicas,
        coalesce(declared_sharing, case when declared_replicas > 1 then 'time-slicing' else 'none' end)
            as sharing_strategy,
        coalesce(mig_strategy, 'none') as mig_strategy,
        advertised_gpus,
        partition_date as valid_on
    from extracted
    qualify row_number() over (partition by cluster, host_id, partition_date order by host_id) = 1
)

select * from final
