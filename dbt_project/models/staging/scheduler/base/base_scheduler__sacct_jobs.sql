-- Every exported row of every Slurm job (steps dropped: they repeat the job's TRES), parsed, with the export it
-- came in (partition_date, source_file, source_line): daily exports repeat a job until it ends, and
-- stg_scheduler__sacct_jobs keeps its newest. The row-level rules are tested here, on the days a refresh loaded
-- (event_time partition_date), so a night's tests read a day of exports, not the history deduplicated.
{{ config(event_time='partition_date') }}

with source as (
    select * from {{ source('scheduler', 'sacct_jobs') }}
),

renamed as (
    select
        job_id as scheduler_job_id,
        cluster,
        partition as slurm_partition,
        qos,
        account as team,
        nullif(wc_key, '') as project,
        user as user_name,
        {{ slurm_time('submit') }} as submitted_at,
        {{ slurm_time('eligible') }} as eligible_at,
        {{ slurm_time('start') }} as started_at,
        {{ slurm_time('"end"') }} as ended_at,
        {{ slurm_duration_s('elapsed') }} as elapsed_s,
        split_part(state, ' ', 1) as state,
        exit_code,
        try_cast(n_nodes as integer) as n_nodes,
        -- allocated TRES once running, requested before; `gres/gpu=N` or only the typed `gres/gpu:<type>=N`
        coalesce(
            try_cast(nullif(regexp_extract(coalesce(nullif(alloc_tres, ''), req_tres), 'gres/gpu=(\d+)', 1), '') as integer),
            try_cast(nullif(regexp_extract(coalesce(nullif(alloc_tres, ''), req_tres), 'gres/gpu:[^=,]+=(\d+)', 1), '') as integer),
            0
        ) as gpus,
        nullif(regexp_extract(coalesce(nullif(alloc_tres, ''), req_tres), 'gres/gpu:([^=,]+)=', 1), '') as gpu_type,
        node_names,
        -- names such as jupyter-<user> carry the person
        {{ redact_identities('job_name') }} as job_name,
        -- Princeton jobstats' per-job summary from AdminComment, decoded by the loader (JS1: base64 gzip JSON)
        jobstats::json as jobstats,
        jobstats_problem,
        partition_date,
        source_file,
        source_line
    from source
    where job_id not like '%.%'  -- steps: <job>.batch, <job>.extern, <job>.<n>
)

select * from renamed
