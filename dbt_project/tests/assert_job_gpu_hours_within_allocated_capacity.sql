-- GPU-hours the training marts attribute to runs never exceed the capacity those runs could have held:
-- per day, training GPU-hours <= the fleet's training-pool capacity that day.
{{ config(meta={'dagster': {'ref': {'name': 'int_training_gpu_hours_daily'}}}) }}
with training as (
    select usage_date, sum(gpu_hours) as training_gpu_hours
    from {{ ref('int_training_gpu_hours_daily') }}
    where holds_gpus  -- a run waiting between attempts holds no capacity
        and {{ in_rebuilt_window('usage_date') }}
    group by all
),

capacity as (
    select hour_at::date as usage_date, sum(existing_s) / 3600 as capacity_gpu_hours
    from {{ ref('fct_gpu_capacity_hourly') }}
    where pool = 'training' and {{ in_rebuilt_window('hour_at') }}
    group by all
)

select *
from training
left join capacity using (usage_date)
where training.training_gpu_hours > coalesce(capacity.capacity_gpu_hours, 0)
    and not {{ close_to('training.training_gpu_hours', 'coalesce(capacity.capacity_gpu_hours, 0)') }}
