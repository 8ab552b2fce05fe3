-- Every held second of a GPU-hour belongs to exactly one holder: the holders' held seconds sum to the hour's
-- allocated seconds (fct_gpu_hourly) and to its allocated states (fct_gpu_capacity_hourly), exactly.
{{ config(meta={'dagster': {'ref': {'name': 'fct_gpu_holder_hourly'}}}) }}
with holders as (
    select host_id, gpu_index, hour_at, sum(held_s) as held_s, count(*) as holders
    from {{ ref('fct_gpu_holder_hourly') }}
    where {{ in_rebuilt_window('hour_at') }}
    group by all
),

gpu_hours as (
    select host_id, gpu_index, hour_at, allocated_s, holders
    from {{ ref('fct_gpu_hourly') }}
    where {{ in_rebuilt_window('hour_at') }}
),

capacity as (
    select host_id, gpu_index, hour_at, allocated_active_s + allocated_idle_s as allocated_s
    from {{ ref('fct_gpu_capacity_hourly') }}
    where {{ in_rebuilt_window('hour_at') }}
)

select *
from gpu_hours
inner join capacity using (host_id, gpu_index, hour_at)
left join holders using (host_id, gpu_index, hour_at)
where coalesce(holders.held_s, 0) <> gpu_hours.allocated_s
    or gpu_hours.allocated_s <> capacity.allocated_s
    or coalesce(holders.holders, 0) <> gpu_hours.holders
