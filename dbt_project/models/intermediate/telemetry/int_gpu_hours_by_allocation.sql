-- GPU x UTC hour x holder (a job attempt or a serving deployment): the microseconds it held the GPU, and the
-- time-weighted sums of the readings over those microseconds only (several holders can share an hour; free
-- seconds of the hour belong to none). Held time is time in an allocated state (allocated_active/idle), so the
-- holders of a GPU-hour sum to its allocated seconds; a job label seen inside maintenance holds nothing.
-- Built one UTC day of hours per query (dbt microbatch on hour_at). The classified time is read unfiltered by dbt
-- (.render()) and selected by hour: hour 00 has rows from the previous day's last samples too.
{{ incremental_by(event_time='hour_at') }}

with classified as (
    select * from {{ ref('int_gpu_hours_by_allocation_and_state').render() }}
    where {{ in_batch('hour_at') }}
),

final as (
    select
        host_id,
        gpu_index,
        hour_at,
        allocation_source,
        allocation_id,
        sum(covered_us) as held_us,
        coalesce(sum(covered_us) filter (where capacity_state = 'allocated_idle'), 0) as held_idle_us,
        {%- for reading in telemetry_readings() %}
        sum({{ reading }}_x_us) as {{ reading }}_x_us,
        sum({{ reading }}_us) as {{ reading }}_us{{ "," if not loop.last }}
        {%- endfor %}
    from classified
    where allocation_id is not null and capacity_state in ('allocated_active', 'allocated_idle')
    group by all
)

select * from final
