-- one row per Kubernetes Job, state as of the newest export
with source as (
    select * from {{ source('scheduler', 'k8s_jobs') }}
    where kind = 'Job'
),

extracted as (
    select
        -- Job and namespace names such as jupyter-<user>, user-<user> carry the person (so may run ids, workloads)
        {{ redact_identities("metadata ->> '$.name'") }} as scheduler_job_id,
        -- Jobs carry no cluster name: each cluster exports its own file, named after the cluster (JSON lines,
        -- <cluster>.jsonl, or a kubectl List, <cluster>.json)
        regexp_extract(source_file, '([^/]+)\.jsonl?$', 1) as cluster,
        {{ redact_identities("metadata ->> '$.namespace'") }} as k8s_namespace,
        metadata ->> '$.labels."fleet.example.com/team"' as team,
        metadata ->> '$.labels."fleet.example.com/user"' as user_name,
        metadata ->> '$.labels."fleet.example.com/project"' as project,
        metadata ->> '$.labels."fleet.example.com/model"' as model_name,
        {{ redact_identities("metadata ->> '$.labels.\"fleet.example.com/run-id\"'") }} as run_id,
        {{ redact_identities("metadata ->> '$.labels.\"fleet.example.com/workload\"'") }} as workload,
        spec ->> '$.template.spec.priorityClassName' as priority_class,
        spec ->> '$.template.spec.nodeSelector."nvidia.com/gpu.product"' as gpu_product,
        {{ k8s_gpu_limits("json_extract(spec, '$.template.spec.containers[*].resources.limits')") }} as limits,
        -- GPU sharing (Alibaba's scheduler): a one-GPU pod that holds a share of it, in thousandths
        try_cast(metadata ->> '$.annotations."alibabacloud.com/gpu-milli"' as double) as gpu_milli,
        try_cast(metadata ->> '$.creationTimestamp' as timestamptz) as submitted_at,
        try_cast(status ->> '$.startTime' as timestamptz) as started_at,
        try_cast(coalesce(status ->> '$.completionTime', status ->> '$.conditions[0].lastTransitionTime') as timestamptz)
            as finished_at,
        try_cast(metadata ->> '$.deletionTimestamp' as timestamptz) as deleted_at,
        status ->> '$.conditions[0].type' as condition_type,
        status ->> '$.conditions[0].reason' as condition_reason,
        try_cast(status ->> '$.active' as integer) as active_pods,
        list_filter(string_split(coalesce(metadata ->> '$.annotations."fleet.example.com/nodes"', ''), ','), lambda x: x <> '')
            as node_names,
        partition_date,
        source_file,
        source_line
    from source
),

final as (
    select
        * exclude (condition_type, condition_reason, active_pods, partition_date, source_file, source_line, limits,
            gpu_milli, finished_at),
        -- whole GPUs (nvidia.com/gpu) plus MIG instances' shares (nvidia.com/mig-<profile>: N/7 each); NULL when a
        -- MIG profile's share is not known
        case
            when len(limits.unknown_mig_profiles) > 0 then null
            when limits.whole_gpus = 1 and gpu_milli between 0 and 1000 then gpu_milli / 1000 + limits.mig_gpus
            else limits.whole_gpus + limits.mig_gpus
        end as gpus,
        limits.mig_gpus,
        limits.mig_profiles,
        case when len(limits.unknown_mig_profiles) > 0 then 'unknown_mig_profile' end as gpu_request_problem,
        -- a started Job deleted with no outcome held its GPUs until the deletion; a Job deleted before it started
        -- stays PENDING (it never held a GPU)
        coalesce(finished_at, case when started_at is not null then deleted_at end) as ended_at,
        case
            when condition_type = 'Complete' then 'COMPLETED'
            when condition_type = 'Failed' and condition_reason = 'Preempted' then 'PREEMPTED'
            when condition_type = 'Failed' and condition_reason = 'PodFailurePolicy' then 'NODE_FAIL'
            when condition_type = 'Failed' then 'FAILED'
            when started_at is not null and deleted_at is not null then 'DELETED'
            when started_at is not null then 'RUNNING'
            else 'PENDING'
        end as state
    from extracted
    {{ latest_partition_row('k8s_namespace, scheduler_job_id') }}
)

select * from final
