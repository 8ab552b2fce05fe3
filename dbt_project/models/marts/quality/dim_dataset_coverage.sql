-- One row per subject: how much of it this warehouse's data covers, and why (the dataset's note). Read it before
-- the marts: a NULL there means "not measured" on this data, not zero.
with declared as (
    select * from {{ ref('stg_dataset__coverage') }}
),

coverage as (
    select * from {{ ref('int_coverage') }}
),

subjects as (
    select 'inventory' as subject, inventory_coverage as coverage from coverage
    union all select 'gpu_telemetry', telemetry_coverage from coverage
    union all select 'jobs', jobs_coverage from coverage
    union all select 'traffic', traffic_coverage from coverage
    union all select 'cost', cost_coverage from coverage
)

select
    subjects.subject,
    subjects.coverage,
    coalesce((select any_value(dataset) from declared), 'production') as dataset,
    case
        when (select count(*) from declared) = 0 then 'a production fleet: covered in full'
        else coalesce(declared.note, 'not in this dataset')
    end as note
from subjects
left join declared on subjects.subject = declared.subject
