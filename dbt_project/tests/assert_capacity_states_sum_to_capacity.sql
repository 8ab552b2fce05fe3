-- Every GPU-second of capacity is in exactly one state, or unmeasured (data that does not cover the fleet):
-- per GPU-hour and in the daily rollup.
{{ config(meta={'dagster': {'ref': {'name': 'fct_gpu_capacity_hourly'}}}) }}
select 'hourly' as grain, count(*) as bad_rows
from {{ ref('fct_gpu_capacity_hourly') }}
where {{ in_rebuilt_window('hour_at') }}
    and existing_s <> {% for state in capacity_states() %}coalesce({{ state }}_s, 0) + {% endfor %}unmeasured_s
having count(*) > 0
union all
select 'capacity_vs_inventory', count(*)
from (
    select sum(existing_s) as capacity_s from {{ ref('fct_gpu_capacity_hourly') }}
    where {{ in_rebuilt_window('hour_at') }}
) as c
cross join (
    select sum(existing_us) / 1e6 as inventory_s from {{ ref('int_gpu_hours_spined') }}
    where {{ in_rebuilt_window('hour_at') }}
) as i
where abs(c.capacity_s - i.inventory_s) > 1e-3
having count(*) > 0
