-- Referential integrity, jobs -> hosts: every node a scheduler job ran on is in the host inventory.
-- A warning, not an error: a cluster may run jobs on hosts the CMDB export missed; their GPU-hours still count
-- in fct_jobs but cannot be placed in the capacity marts.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_jobs_unioned'}}}) }}

select distinct jobs.cluster, jobs.scheduler_job_id, node.name as host_id
from {{ ref('int_jobs_unioned') }} as jobs, unnest(jobs.node_names) as node(name)
where node.name not in (select host_id from {{ ref('stg_inventory__hosts') }})
