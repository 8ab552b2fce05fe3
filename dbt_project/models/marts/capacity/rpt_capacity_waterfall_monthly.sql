-- UTC month: the ROI chain. capacity - intentional idle - unintended idle = allocated;
-- allocated - lower-ROI = higher-ROI capacity -> output (models trained, deployed) -> output per developer.
-- The month's capacity states are the sum of fct_fleet_utilization_daily's days (built by day), not of every
-- GPU-hour of the history again each night.
with capacity as (
    select * from {{ ref('fct_fleet_utilization_daily') }}
),

lower_roi as (
    select * from {{ ref('fct_lower_roi_capacity_daily') }}
),

productivity as (
    select * from {{ ref('fct_team_productivity_monthly') }}
),

states as (
    select
        date_trunc('month', usage_date)::date as month_start,
        sum(capacity_gpu_hours)::decimal(18, 9) as capacity_gpu_hours,
        {%- for state in capacity_states() %}
        sum({{ state }}_gpu_hours)::decimal(18, 9) as {{ state }}_gpu_hours,
        {%- endfor %}
        sum(unmeasured_gpu_hours)::decimal(18, 9) as unmeasured_gpu_hours
    from capacity
    group by all
),

roi as (
    select
        date_trunc('month', usage_date)::date as month_start,
        {%- for category in lower_roi_categories() %}
        sum({{ category }}_gpu_hours) as {{ category }}_gpu_hours,
        {%- endfor %}
        sum(lower_roi_gpu_hours) as lower_roi_gpu_hours
    from lower_roi
    group by all
),

outputs as (
    select
        month_start,
        sum(experiments_run) as experiments_run,
        sum(models_trained) as models_trained,
        sum(models_deployed) as models_deployed,
        sum(developers) as developers
    from productivity
    group by all
),

final as (
    select
        states.*,
        states.down_planned_gpu_hours + states.reserved_dr_gpu_hours + states.reserved_push_gpu_hours
            as intentional_idle_gpu_hours,
        states.down_unplanned_gpu_hours + states.idle_hw_mismatch_gpu_hours + states.idle_fragmented_gpu_hours
            + states.idle_no_demand_gpu_hours as unintended_idle_gpu_hours,
        states.allocated_active_gpu_hours + states.allocated_idle_gpu_hours as allocated_gpu_hours,
        {%- for category in lower_roi_categories() %}
        coalesce(roi.{{ category }}_gpu_hours, 0) as lower_roi_{{ category }}_gpu_hours,
        {%- endfor %}
        coalesce(roi.lower_roi_gpu_hours, 0) as lower_roi_gpu_hours,
        states.allocated_active_gpu_hours + states.allocated_idle_gpu_hours - coalesce(roi.lower_roi_gpu_hours, 0)
            as higher_roi_gpu_hours,
        outputs.experiments_run,
        outputs.models_trained,
        outputs.models_deployed,
        outputs.developers,
        outputs.models_trained / nullif(outputs.developers, 0) as models_trained_per_developer,
        outputs.models_deployed / nullif(outputs.developers, 0) as models_deployed_per_developer,
        outputs.models_trained
        / nullif((states.allocated_active_gpu_hours + states.allocated_idle_gpu_hours
                  - coalesce(roi.lower_roi_gpu_hours, 0)) / 1000, 0) as models_trained_per_1k_higher_roi_gpu_hours
    from states
    left join roi on states.month_start = roi.month_start
    left join outputs on states.month_start = outputs.month_start
)

select * from final
