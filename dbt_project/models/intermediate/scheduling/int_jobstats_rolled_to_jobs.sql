-- One row per Slurm job with a jobstats summary (Princeton jobstats, from sacct's AdminComment): its GPUs'
-- utilisation and memory as jobstats measured them over the whole job, one GPU = one (node, GPU minor) entry.
with jobs as (
    select * from {{ ref('stg_scheduler__sacct_jobs') }}
    where jobstats is not null
),

nodes as (
    select
        cluster,
        scheduler_job_id,
        unnest(map_entries(json_transform(jobstats -> '$.nodes', '"MAP(VARCHAR, JSON)"'))) as node
    from jobs
),

gpus as (
    -- gpu_utilization: the GPU's mean utilisation over the job, in % (avg_over_time of the exporter's duty
    -- cycle); gpu_used_memory: its peak used memory (max_over_time), gpu_total_memory: its memory, both bytes
    select
        cluster,
        scheduler_job_id,
        node.key as host_id,
        gpu.key as gpu_minor,
        try_cast(gpu.value as double) as util_pct,
        try_cast(node.value -> '$.gpu_used_memory' ->> gpu.key as double) as used_bytes,
        try_cast(node.value -> '$.gpu_total_memory' ->> gpu.key as double) as total_bytes
    from (
        select
            *,
            unnest(map_entries(coalesce(
                json_transform(node.value -> '$.gpu_utilization', '"MAP(VARCHAR, JSON)"'), map()
            ))) as gpu
        from nodes
    )
),

final as (
    select
        cluster,
        scheduler_job_id,
        count(*) as jobstats_gpus,
        -- jobstats' own overall figure: the mean over the job's GPUs of each GPU's mean utilisation
        avg(util_pct) / 100.0 as jobstats_gpu_util_ratio,
        max(used_bytes) as jobstats_gpu_mem_peak_used_bytes,
        -- the sum of the GPUs' peaks over the sum of their memory (jobstats' "GPU memory usage")
        sum(used_bytes) / nullif(sum(total_bytes), 0) as jobstats_gpu_mem_peak_used_ratio
    from gpus
    group by cluster, scheduler_job_id
)

select * from final
