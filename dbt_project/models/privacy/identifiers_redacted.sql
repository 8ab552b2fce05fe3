-- Every distinct free-text identifier the inputs carry that names a person (job names, Kubernetes Job names and
-- namespaces, pods, containers, run ids, workload labels, sacct groups), with each name in it replaced by its
-- pseudonym. A name matches case-insensitively, as a whole token: not inside a longer run of letters and digits,
-- so user `al` leaves `training-alpha` alone and `alice` is found in `jupyter-Alice` and `alice_nb`. Longer names
-- go first (`john.smith` before `john`). Each identifier is rewritten once here, and staging (macro
-- redact_identities) and the published copy's raw tables (pipelines/lib/privacy.py) look the result up, so a pod
-- and its Job still match after both are redacted. Only identifiers that change are kept.
with sacct as (
    select * from {{ source('scheduler', 'sacct_jobs') }}
),

k8s as (
    select * from {{ source('scheduler', 'k8s_jobs') }}
),

pods as (
    select * from {{ source('scheduler', 'k8s_pods') }}
),

dcgm as (
    select * from {{ source('gpu_telemetry', 'dcgm_samples') }}
),

columnar as (
    select * from {{ source('gpu_telemetry', 'gpu_samples') }}
),

pulled as (
    select * from {{ source('gpu_telemetry', 'prometheus_samples') }}
),

events as (
    select * from {{ source('training', 'training_events') }}
),

identities as (
    select * from {{ ref('identities') }}
),

-- the same columns pipelines/lib/privacy.py rewrites in the published copy (IDENTIFIER_COLUMNS)
identifiers as (
    select job_name as identifier from sacct
    union
    select "group" from sacct
    union
    select metadata ->> '$.name' from k8s
    union
    select metadata ->> '$.namespace' from k8s
    union
    select metadata ->> '$.labels."fleet.example.com/run-id"' from k8s
    union
    select metadata ->> '$.labels."fleet.example.com/workload"' from k8s
    union
    select metadata ->> '$.name' from pods
    union
    select metadata ->> '$.namespace' from pods
    union
    select metadata ->> '$.labels."fleet.example.com/run-id"' from pods
    union
    select metadata ->> '$.labels."fleet.example.com/workload"' from pods
    union
    -- the owners a pod names (its Job, ReplicaSet, StatefulSet), inside metadata.ownerReferences
    select unnest(json_extract_string(metadata, '$.ownerReferences[*].name')) from pods
    union
    -- the telemetry's labels: a sample without one (a Slurm host's) is most of a fleet's rows, and DuckDB skips
    -- the row groups that hold none by their statistics instead of reading every sample
    select pod from dcgm where pod is not null
    union
    select namespace from dcgm where namespace is not null
    union
    select container from dcgm where container is not null
    union
    select pod from columnar where pod is not null
    union
    select namespace from columnar where namespace is not null
    union
    select container from columnar where container is not null
    union
    select pod from pulled where pod is not null
    union
    select namespace from pulled where namespace is not null
    union
    select container from pulled where container is not null
    union
    select run_id from events
    union
    select scheduler_job_id from events
),

-- a substring test first: the regex below runs only on pairs where the name occurs at all
occurrences as (
    select
        identifiers.identifier,
        identities.name_lower,
        identities.pseudonym
    from identifiers
    inner join identities on contains(lower(identifiers.identifier), identities.name_lower)
),

-- a name between two non-alphanumeric characters (or the ends). RE2 has no lookaround, so a match consumes the
-- separator after the name and a second pass catches a name right after it (alice-alice)
redacted as (
    select
        identifier,
        list_reduce(
            list({'name': name_lower, 'pseudonym': pseudonym} order by length(name_lower) desc, name_lower),
            lambda text, found: regexp_replace(
                regexp_replace(
                    text,
                    '(^|[^a-z0-9])' || regexp_escape(found.name) || '([^a-z0-9]|$)',
                    '\1' || found.pseudonym || '\2',
                    'gi'
                ),
                '(^|[^a-z0-9])' || regexp_escape(found.name) || '([^a-z0-9]|$)',
                '\1' || found.pseudonym || '\2',
                'gi'
            ),
            identifier
        ) as redacted
    from occurrences
    group by identifier
),

final as (
    select * from redacted
    where redacted <> identifier
)

select * from final
