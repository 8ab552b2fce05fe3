-- One row per job of any kind, the XDMoD jobs-realm view: scheduler jobs (Slurm, Kubernetes) and serving
-- deployments (inference). GPU-hours = gpus x wall time; a job still running is measured to the window end.
-- GPU utilisation while held from the telemetry, else (a Slurm job no telemetry saw) from its jobstats summary.
with jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

host_models as (
    select host_id, arg_max(gpu_model, valid_from) as gpu_model from hosts group by host_id
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

training_runs as (
    select distinct run_id from {{ ref('stg_training__training_events') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

usage as (
    select * from {{ ref('int_gpu_usage_daily') }}
),

jobstats as (
    select * from {{ ref('int_jobstats_rolled_to_jobs') }}
),

-- each holder's utilisation over the GPU time it held, as every "while held" figure (macro held_mean)
held as (
    select
        allocation_source::varchar as scheduler,
        cluster,
        allocation_id,
        {{ held_mean('gpu_util_ratio') }} as gpu_util_ratio
    from usage
    group by all
),

scheduled as (
    select
        jobs.allocation_source || ':' || jobs.cluster || ':' || jobs.scheduler_job_id as job_key,
        jobs.allocation_source as scheduler,
        jobs.cluster,
        jobs.scheduler_job_id,
        jobs.job_name,
        case
            when jobs.workload is not null then jobs.workload
            when training_runs.run_id is not null then 'training'
            when jobs.job_name like 'eval%' then 'evaluation'
            when jobs.job_name like 'jupyter%' or jobs.job_name like 'notebook%' then 'notebook'
            else 'unknown'
        end as job_kind,
        jobs.team,
        jobs.project,
        jobs.user_pseudonym,
        jobs.gpus,
        coalesce(gres.family, product.family) as gpu_family,
        jobs.gpu_type,
        jobs.node_names[1] as first_node,
        jobs.submitted_at,
        jobs.started_at,
        jobs.ended_at,
        jobs.state as scheduler_state
    from jobs
    -- the launcher names the scheduler job after the training run
    left join training_runs on jobs.job_name = training_runs.run_id
    left join (select distinct gres_type, family from skus) as gres
        on jobs.allocation_source = 'slurm' and lower(jobs.gpu_type) = gres.gres_type
    left join (select distinct k8s_product, family from skus) as product
        on jobs.allocation_source = 'kubernetes' and jobs.gpu_type = product.k8s_product
),

served as (
    select
        'serving:' || deployments.cluster || ':' || deployments.deployment_id as job_key,
        'serving' as scheduler,
        deployments.cluster,
        deployments.deployment_id as scheduler_job_id,
        deployments.model_name as job_name,
        'inference' as job_kind,
        deployments.team,
        null as project,
        null as user_pseudonym,
        deployments.gpus,
        skus.family as gpu_family,
        hosts.gpu_model as gpu_type,
        deployments.host_id as first_node,
        deployments.started_at as submitted_at,
        deployments.started_at,
        deployments.ended_at,
        case when deployments.ended_at is null then 'RUNNING' else 'COMPLETED' end as scheduler_state
    from deployments
    left join hosts
        on deployments.host_id = hosts.host_id
        and deployments.started_at >= hosts.valid_from
        and (hosts.valid_to is null or deployments.started_at < hosts.valid_to)
    left join skus on hosts.gpu_model = skus.gpu_model
),

unioned as (
    select * from scheduled
    union all
    select * from served
),

final as (
    select
        unioned.* exclude (started_at, first_node),
        -- the GPU model it ran on (first node's), else the family it asked for
        coalesce(host_models.gpu_model, unioned.gpu_family) as gpu_model,
        -- measured inside the window: a deployment live since before it counts from the window start
        greatest(unioned.started_at, case when unioned.scheduler = 'serving' then telemetry_window.window_start end)
            as started_at,
        case
            when unioned.scheduler_state = 'COMPLETED' then 'completed'
            when unioned.scheduler_state in ('FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'TIMEOUT', 'DEADLINE')
                then 'failed'
            when unioned.scheduler_state in ('CANCELLED', 'REVOKED') then 'cancelled'
            when unioned.scheduler_state in ('PREEMPTED', 'REQUEUED') then 'preempted'
            -- Kubernetes: deleted after it started, no outcome recorded (it ran until the deletion)
            when unioned.scheduler_state = 'DELETED' then 'deleted_while_running'
            when unioned.scheduler_state in ('RUNNING', 'SUSPENDED', 'COMPLETING', 'CONFIGURING') then 'running'
            when unioned.scheduler_state = 'PENDING' then 'pending'
            else 'unknown'
        end as final_state,
        {{ seconds_between(
            'unioned.submitted_at', 'coalesce(unioned.started_at, unioned.ended_at, telemetry_window.window_end)'
        ) }} as wait_s
    from unioned
    cross join telemetry_window
    left join host_models on unioned.first_node = host_models.host_id
),

measured as (
    select
        *,
        case when started_at is not null
            then {{ seconds_between(
                'started_at', 'least(coalesce(ended_at, telemetry_window.window_end), telemetry_window.window_end)'
            ) }}
        end as wall_s
    from final
    cross join telemetry_window
)

select
    measured.* exclude (window_start, window_end, has_telemetry),
    {{ s_to_hours('measured.gpus * coalesce(measured.wall_s, 0)') }} as gpu_hours,
    coalesce(held.gpu_util_ratio, jobstats.jobstats_gpu_util_ratio) as gpu_util_ratio,
    case
        when held.gpu_util_ratio is not null then 'telemetry'
        when jobstats.jobstats_gpu_util_ratio is not null then 'jobstats'
    end as gpu_util_source,
    jobstats.jobstats_gpu_mem_peak_used_bytes as gpu_mem_peak_used_bytes,
    jobstats.jobstats_gpu_mem_peak_used_ratio as gpu_mem_peak_used_ratio
from measured
left join held
    on measured.scheduler = held.scheduler
    and measured.cluster = held.cluster
    and measured.scheduler_job_id = held.allocation_id
left join jobstats
    on measured.scheduler = 'slurm'
    and measured.cluster = jobstats.cluster
    and measured.scheduler_job_id = jobstats.scheduler_job_id
