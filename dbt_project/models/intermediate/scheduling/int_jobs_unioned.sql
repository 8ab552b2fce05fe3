-- every scheduler job (Slurm and Kubernetes) in one shape, keyed like the telemetry allocation labels;
-- from here on people are pseudonyms
with slurm as (
    select * from {{ ref('stg_scheduler__sacct_jobs') }}
),

kubernetes as (
    select * from {{ ref('stg_scheduler__k8s_jobs') }}
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
        {{ pseudonym('user_name') }} as user_pseudonym,
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
    from kubernetes
)

select * from unioned
