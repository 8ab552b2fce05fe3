-- one row per Kubernetes pod, state as of the newest export (kubectl get pods -A -o json, a file per cluster)
with source as (
    select * from {{ source('scheduler', 'k8s_pods') }}
    where kind = 'Pod'
),

extracted as (
    select
        -- pod and namespace names such as jupyter-<user>-0, user-<user> carry the person
        {{ redact_identities("metadata ->> '$.name'") }} as pod_name,
        {{ redact_identities("metadata ->> '$.namespace'") }} as k8s_namespace,
        -- pods carry no cluster name: each cluster exports its own file, named after the cluster
        regexp_extract(source_file, '([^/]+)\.jsonl?$', 1) as cluster,
        -- the Job that owns the pod (a batch Job's pods), so the pod rolls up to it
        {{ redact_identities("list_filter(
            coalesce(json_extract(metadata, '$.ownerReferences[*]'), []::json[]), lambda o: o ->> '$.kind' = 'Job'
        )[1] ->> '$.name'") }} as owner_job_name,
        list_filter(
            coalesce(json_extract(metadata, '$.ownerReferences[*]'), []::json[]),
            lambda o: coalesce(o ->> '$.controller', 'false') = 'true'
        )[1] ->> '$.kind' as owner_kind,
        metadata ->> '$.labels."fleet.example.com/team"' as team,
        metadata ->> '$.labels."fleet.example.com/user"' as user_name,
        metadata ->> '$.labels."fleet.example.com/project"' as project,
        metadata ->> '$.labels."fleet.example.com/model"' as model_name,
        {{ redact_identities("metadata ->> '$.labels.\"fleet.example.com/run-id\"'") }} as run_id,
        {{ redact_identities("metadata ->> '$.labels.\"fleet.example.com/workload\"'") }} as workload,
        spec ->> '$.priorityClassName' as priority_class,
        spec ->> '$.nodeSelector."nvidia.com/gpu.product"' as gpu_product,
        nullif(spec ->> '$.nodeName', '') as node_name,
        {{ k8s_gpu_limits("json_extract(spec, '$.containers[*].resources.limits')") }} as limits,
        status ->> '$.phase' as phase,
        status ->> '$.reason' as pod_reason,
        list_transform(
            coalesce(json_extract(status, '$.conditions[*]'), []::json[]),
            lambda c: case when c ->> '$.type' = 'DisruptionTarget' and c ->> '$.status' = 'True' then c ->> '$.reason' end
        ) as disruptions,
        -- the containers' termination reasons, now or (restarted containers) last time
        list_concat(
            coalesce(json_extract_string(status, '$.containerStatuses[*].state.terminated.reason'), []),
            coalesce(json_extract_string(status, '$.containerStatuses[*].lastState.terminated.reason'), [])
        ) as terminations,
        try_cast(metadata ->> '$.creationTimestamp' as timestamptz) as submitted_at,
        try_cast(status ->> '$.startTime' as timestamptz) as start_time,
        list_max(list_transform(
            coalesce(json_extract_string(status, '$.containerStatuses[*].state.terminated.finishedAt'), []),
            lambda t: try_cast(t as timestamptz)
        )) as finished_at,
        -- an evicted pod's containers may carry no finish: its conditions' last transition is the end
        list_max(list_transform(
            coalesce(json_extract_string(status, '$.conditions[*].lastTransitionTime'), []),
            lambda t: try_cast(t as timestamptz)
        )) as last_transition_at,
        try_cast(metadata ->> '$.deletionTimestamp' as timestamptz) as deleted_at,
        partition_date,
        source_file,
        source_line
    from source
),

stated as (
    select
        *,
        -- a pod that no node took (Pending, unscheduled) never started and holds nothing
        case when node_name is not null then start_time end as started_at,
        case
            when phase = 'Succeeded' then 'COMPLETED'
            when list_contains(disruptions, 'PreemptionByScheduler') or pod_reason = 'Preempting' then 'PREEMPTED'
            when list_contains(disruptions, 'DeletionByTaintManager') or list_contains(disruptions, 'TerminationByKubelet')
                or pod_reason in ('NodeLost', 'NodeShutdown', 'Terminated') then 'NODE_FAIL'
            when list_contains(disruptions, 'EvictionByEvictionAPI') or pod_reason = 'Evicted' then 'PREEMPTED'
            when pod_reason = 'DeadlineExceeded' or list_contains(terminations, 'DeadlineExceeded') then 'TIMEOUT'
            when phase = 'Failed' and list_contains(terminations, 'OOMKilled') then 'OUT_OF_MEMORY'
            when phase = 'Failed' then 'FAILED'
            when phase = 'Unknown' then 'UNKNOWN'
            when node_name is not null and start_time is not null and deleted_at is not null then 'DELETED'
            when node_name is not null and start_time is not null then 'RUNNING'
            else 'PENDING'
        end as state
    from extracted
),

final as (
    select
        pod_name,
        k8s_namespace,
        cluster,
        owner_job_name,
        owner_kind,
        team,
        user_name,
        project,
        model_name,
        run_id,
        workload,
        priority_class,
        gpu_product,
        node_name,
        -- requested: whole devices (nvidia.com/gpu, before a node's time-slicing) and MIG instances' shares
        limits.whole_gpus,
        limits.mig_gpus,
        limits.mig_profiles,
        case when len(limits.unknown_mig_profiles) > 0 then 'unknown_mig_profile' end as gpu_request_problem,
        limits.unknown_mig_profiles,
        phase,
        state,
        list_filter(terminations, lambda r: r is not null) as termination_reasons,
        submitted_at,
        started_at,
        -- ended (a pod that started and reached a final phase): its last container's finish, else its last
        -- condition change; a running pod deleted: the deletion (it held its GPUs until then)
        case
            when started_at is null or state in ('RUNNING', 'UNKNOWN') then null
            when state = 'DELETED' then deleted_at
            else coalesce(finished_at, last_transition_at, deleted_at)
        end as ended_at,
        deleted_at
    from stated
    {{ latest_partition_row('cluster, k8s_namespace, pod_name') }}
)

select * from final
