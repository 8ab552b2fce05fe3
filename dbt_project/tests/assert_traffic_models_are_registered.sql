-- Referential integrity, traffic -> model registry: every model that served requests is a registered model.
-- A warning: a serving stack may log a model the registry never saw (a shadow deployment, a renamed model).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_model_traffic_hourly'}}}) }}

select distinct traffic.model_name
from {{ ref('int_model_traffic_hourly') }} as traffic
where traffic.model_name not in (select model_name from {{ ref('stg_registry__model_stage_events') }})
