-- One row: how much of each subject the warehouse's data covers. A production fleet declares nothing and is
-- covered in full; a public trace declares what it has (full, sample or none). Marts that need full coverage
-- read this and say "not measured" (NULL) rather than report the unseen part of a cluster as idle.
with declared as (
    select * from {{ ref('stg_dataset__coverage') }}
),

subjects as (
    select unnest(['inventory', 'gpu_telemetry', 'jobs', 'traffic', 'cost']) as subject
),

resolved as (
    select
        subjects.subject,
        -- nothing declared: a production fleet; declared: a subject a dataset leaves out is not covered
        case
            when (select count(*) from declared) = 0 then 'full'
            else coalesce(declared.coverage, 'none')
        end as coverage
    from subjects
    left join declared on subjects.subject = declared.subject
)

select
    max(coverage) filter (where subject = 'inventory') as inventory_coverage,
    max(coverage) filter (where subject = 'gpu_telemetry') as telemetry_coverage,
    max(coverage) filter (where subject = 'jobs') as jobs_coverage,
    max(coverage) filter (where subject = 'traffic') as traffic_coverage,
    max(coverage) filter (where subject = 'cost') as cost_coverage
from resolved
