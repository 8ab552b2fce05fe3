-- Data with full GPU telemetry has capacity rows: an empty capacity mart there means the telemetry or the spine
-- was lost on the way. Data that does not cover the fleet's telemetry (a public trace: see int_coverage) may
-- have none, and the rule does not apply to it.
{{ config(meta={'dagster': {'ref': {'name': 'fct_gpu_capacity_hourly'}}}) }}
with coverage as (
    select * from {{ ref('int_coverage') }}
),

capacity as (
    select count(*) as capacity_rows from {{ ref('fct_gpu_capacity_hourly') }}
)

select coverage.telemetry_coverage, capacity.capacity_rows
from coverage
cross join capacity
where coverage.telemetry_coverage = 'full' and capacity.capacity_rows = 0
