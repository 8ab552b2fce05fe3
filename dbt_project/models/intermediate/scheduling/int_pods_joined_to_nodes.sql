-- One row per Kubernetes pod with the GPUs it holds: its whole-GPU requests divided by its node's time-slicing
-- replicas (a node advertising each GPU 4 times gives a one-GPU pod 0.25 of a physical GPU), plus its MIG
-- instances' shares; the holder its GPU time is charged to (its Job when a Job owns it, else its name without the
-- replica suffix, as the telemetry's pod label is read); and whether that Job is exported itself.
with pods as (
    select * from {{ ref('stg_scheduler__k8s_pods') }}
),

nodes as (
    select * from {{ ref('stg_scheduler__k8s_nodes') }}
),

jobs as (
    select distinct cluster, scheduler_job_id from {{ ref('stg_scheduler__k8s_jobs') }}
),

-- each node export holds from its day to the next export's (the first one also before it)
nodes_ranged as (
    select
        *,
        case when row_number() over (partition by cluster, host_id order by valid_on) = 1 then '-infinity'::date
            else valid_on end as valid_from,
        coalesce(lead(valid_on) over (partition by cluster, host_id order by valid_on), 'infinity'::date) as valid_to
    from nodes
),

-- a node's sharing as of the pod's start (its creation when it never started)
placed as (
    select
        pods.*,
        nodes.gpu_replicas,
        nodes.sharing_strategy,
        nodes.gpu_product as node_gpu_product
    from pods
    left join nodes_ranged as nodes
        on pods.cluster = nodes.cluster
        and pods.node_name = nodes.host_id
        and coalesce(pods.started_at, pods.submitted_at)::date >= nodes.valid_from
        and coalesce(pods.started_at, pods.submitted_at)::date < nodes.valid_to
),

final as (
    select
        -- from here on people are pseudonyms
        placed.* exclude (gpu_replicas, sharing_strategy, node_gpu_product, gpu_product, user_name),
        {{ pseudonym('placed.user_name') }} as user_pseudonym,
        coalesce(placed.gpu_product, placed.node_gpu_product) as gpu_product,
        coalesce(placed.gpu_replicas, 1) as gpu_replicas,
        coalesce(placed.sharing_strategy, 'none') as sharing_strategy,
        case when placed.gpu_request_problem is null
            then placed.whole_gpus / coalesce(placed.gpu_replicas, 1) + placed.mig_gpus
        end as gpus,
        coalesce(placed.owner_job_name, {{ pod_allocation_id('placed.pod_name') }}) as allocation_id,
        jobs.scheduler_job_id is not null as is_exported_job
    from placed
    left join jobs
        on placed.cluster = jobs.cluster
        and placed.owner_job_name = jobs.scheduler_job_id
)

select * from final
