-- UTC day x cluster x pool x GPU model: capacity, hours in each state, and time-weighted activity. The shares of
-- capacity need data that covers the whole fleet (int_coverage): on a sampled trace they are NULL (not measured).
-- Built one UTC day per query (dbt microbatch on usage_date) from that day of the hourly marts, which dbt
-- selects by their event_time: a refresh re-aggregates only the days it rebuilt.
{{ incremental_by(event_time='usage_date') }}

with capacity as (
    select * from {{ ref('fct_gpu_capacity_hourly') }}
),

gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

joined as (
    select
        capacity.*,
        gpu_hours.gpu_util_ratio,
        gpu_hours.sm_active_ratio,
        gpu_hours.tensor_active_ratio,
        gpu_hours.fb_used_bytes,
        gpu_hours.energy_wh
    from capacity
    inner join gpu_hours
        on capacity.host_id = gpu_hours.host_id
        and capacity.gpu_index = gpu_hours.gpu_index
        and capacity.hour_at = gpu_hours.hour_at
),

final as (
    select
        hour_at::date as usage_date,
        cluster,
        pool,
        gpu_model,
        count(distinct host_id || '/' || gpu_index) as gpus,
        {{ s_to_hours('sum(existing_s)') }} as capacity_gpu_hours,
        {%- for state in capacity_states() %}
        {{ s_to_hours('sum(' ~ state ~ '_s)') }} as {{ state }}_gpu_hours,
        {%- endfor %}
        {{ s_to_hours('sum(unmeasured_s)') }} as unmeasured_gpu_hours,
        case when bool_and(telemetry_coverage = 'full' and jobs_coverage = 'full')
            then (sum(allocated_active_s) + sum(allocated_idle_s)) / nullif(sum(existing_s), 0)
        end as allocated_ratio,
        (sum(down_unplanned_s) + sum(idle_hw_mismatch_s) + sum(idle_fragmented_s) + sum(idle_no_demand_s))
            / nullif(sum(existing_s), 0) as unintended_idle_ratio,
        sum(gpu_util_ratio * observed_s) / nullif(sum(observed_s) filter (where gpu_util_ratio is not null), 0)
            as gpu_util_ratio,
        sum(sm_active_ratio * observed_s) / nullif(sum(observed_s) filter (where sm_active_ratio is not null), 0)
            as sm_active_ratio,
        sum(tensor_active_ratio * observed_s)
            / nullif(sum(observed_s) filter (where tensor_active_ratio is not null), 0) as tensor_active_ratio,
        sum(fb_used_bytes * observed_s) / nullif(sum(observed_s) filter (where fb_used_bytes is not null), 0)
            as fb_used_bytes,
        sum(energy_wh) / 1000 as energy_kwh,
        any_value(telemetry_coverage) as telemetry_coverage,
        any_value(jobs_coverage) as jobs_coverage
    from joined
    group by all
)

select * from final
