-- one row per Slurm job, state as of the newest export
with exports as (
    select * from {{ ref('base_scheduler__sacct_jobs') }}
),

newest as (
    select * exclude (partition_date, source_file, source_line)
    from exports
    {{ latest_partition_row('cluster, scheduler_job_id') }}
)

select * from newest
