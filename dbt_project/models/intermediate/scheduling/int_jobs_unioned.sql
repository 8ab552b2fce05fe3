-- every scheduler job (Slurm and Kubernetes) in one shape, keyed like the telemetry allocation labels;
-- from here on people are pseudonyms. Kubernetes: the exported Jobs, and the holders of pods no exported Job owns
-- (a bare pod, a StatefulSet's, a pod whose Job is not in the export), one per allocation id; a Job's pods are
-- never counted beside it.
with slurm as (
    select * from {{ ref('stg_scheduler__sacct_jobs') }}
),

kubernetes_jobs as (
    select * from {{ ref('stg_scheduler__k8s_jobs') }}
),

pods as (
    select * from {{ ref('int_pods_joined_to_nodes') }}
),

-- what a Job's pods add: the nodes they ran on, and the time-slicing of those nodes
job_pods as (
    select
        cluster,
        owner_job_name as scheduler_job_id,
        coalesce(list_sort(list_distinct(list(node_name) filter (where started_at is not null))), []) as node_names,
        max(gpu_replicas) as gpu_replicas
    from pods
    where is_exported_job
    group by all
),

kubernetes as (
    select
        kubernetes_jobs.* exclude (gpus, node_names),
        -- whole GPUs of a Job on time-sliced nodes hold 1/replicas of a physical GPU each; MIG shares are physical
        (kubernetes_jobs.gpus - kubernetes_jobs.mig_gpus) / coalesce(job_pods.gpu_replicas, 1) + kubernetes_jobs.mig_gpus
            as gpus,
        case when len(kubernetes_jobs.node_names) > 0 or job_pods.node_names is null then kubernetes_jobs.node_names
            else job_pods.node_names end as node_names,
        {{ pseudonym('kubernetes_jobs.user_name') }} as user_pseudonym
    from kubernetes_jobs
    left join job_pods
        on kubernetes_jobs.cluster = job_pods.cluster
        and kubernetes_jobs.scheduler_job_id = job_pods.scheduler_job_id
),

-- pods no exported Job owns, one holder per allocation id: its pods run side by side (a training operator's
-- workers), so their GPUs add up; it ends when its last pod ends, and takes that pod's state
pod_holders as (
    select
        cluster,
        allocation_id as scheduler_job_id,
        any_value(team) as team,
        any_value(project) as project,
        any_value(user_pseudonym) as user_pseudonym,
        any_value(run_id) as run_id,
        any_value(workload) as workload,
        any_value(model_name) as model_name,
        -- NULL when a pod's request is not known (an unknown MIG profile)
        case when bool_and(gpus is not null) then sum(gpus) end as gpus,
        any_value(gpu_product) as gpu_product,
        min(submitted_at) as submitted_at,
        min(started_at) as started_at,
        case when bool_and(ended_at is not null or started_at is null) then max(ended_at) end as ended_at,
        arg_max(state, coalesce(ended_at, 'infinity'::timestamptz)) as state,
        coalesce(list_sort(list_distinct(list(node_name) filter (where started_at is not null))), []) as node_names
    from pods
    where not is_exported_job
    group by cluster, allocation_id
),

-- the exported Jobs and the holders of the pods none of them owns
kubernetes_holders as (
    select * from kubernetes
    union all by name
    select * from pod_holders
    -- a holder named like an exported Job (a Job's pods exported, the Job itself not owning them) is that Job
    where not exists (
        select 1 from kubernetes_jobs
        where kubernetes_jobs.cluster = pod_holders.cluster and kubernetes_jobs.scheduler_job_id = pod_holders.scheduler_job_id
    )
),

unioned as (
    select
        'slurm' as allocation_source,
        cluster,
        scheduler_job_id,
        team,
        project,
        {{ pseudonym('user_name') }} as user_pseudonym,
        job_name,  -- redacted in staging
        null as workload,
        null as model_name,
        gpus::double as gpus,
        gpu_type,
        submitted_at,
        eligible_at,
        started_at,
        ended_at,
        state,
        node_names
    from slurm
    union all
    select
        'kubernetes' as allocation_source,
        cluster,
        scheduler_job_id,
        team,
        project,
        user_pseudonym,
        run_id as job_name,
        workload,
        model_name,
        gpus,
        gpu_product as gpu_type,
        submitted_at,
        submitted_at as eligible_at,
        started_at,
        ended_at,
        state,
        node_names
    from kubernetes_holders
)

select * from unioned
