-- GPU x UTC hour x allocation x capacity state: the time the GPU's samples covered, with time-weighted sums of
-- the readings. Samples are turned into covered time and aggregated in one query, never stored one row per sample
-- (a fleet-day is 14.4 million samples at 10,000 GPUs; the hour grain is ~60x fewer rows).
-- A sample stands for the time until the next sample of the GPU, capped at telemetry_gap_factor x the host's
-- median scrape gap that day (a longer silence is a gap: host down or exporter dead). An interval that crosses the
-- hour is split, so every covered second lands in exactly one hour; it also stops at a maintenance window's
-- start or end, so maintenance time is never counted in another state. Durations are integer microseconds.
-- State of a covered piece, first match wins (judged at the sample's instant):
--   down_planned      inside an announced maintenance window
--   reserved_dr       host held as disaster-recovery buffer
--   reserved_push     host held as push buffer
--   allocated_idle    held by a job/deployment but gpu_util_ratio < allocated_idle_util_threshold
--   allocated_active  held by a job/deployment
--   idle_fragmented   free while a job that accepts this GPU family waits in the cluster's queue
--   idle_hw_mismatch  free while jobs wait in the cluster's queue, but only for other GPU families
--   idle_no_demand    free and nothing waits
-- Built one UTC day of samples per query (dbt microbatch on sample_day_at; the refresh names the days, see
-- pipelines/defs/transform/assets.py): a day reads its own samples plus the next hour's, since its last samples
-- cover time up to the next ones (never more than an hour). Its rows may therefore include hour 00 of the next
-- day, which the next day's batch also has rows for: readers sum by hour.
{{ incremental_by(event_time='sample_day_at') }}

-- not materialized: the samples are read for their hosts, their time, their instants and their identities; scans
-- of the raw tables cost less than holding a fleet-day of wide rows in memory to share
with batch_samples as not materialized (
    select * from {{ ref('int_gpu_samples_unioned') }}
    where {{ in_batch('measured_at', reach='1 hour') }}
),

-- The batch's hosts numbered: samples are sorted, joined and grouped by host_key, an integer, and named again at
-- the end. A host name longer than 12 characters is stored out of line, and carrying it through the window, the
-- joins and the aggregate over a fleet-day of samples costs far more than this one lookup per sample.
host_keys as (
    select host_id, (row_number() over (order by host_id))::integer as host_key
    from (select distinct host_id from batch_samples)
),

samples as not materialized (
    select host_keys.host_key, batch_samples.* exclude (host_id)
    from batch_samples
    inner join host_keys on batch_samples.host_id = host_keys.host_id
),

-- the hosts' inventory, maintenance, deployments and nodes, for the batch's hosts only
deployments as (
    select host_keys.host_key, deployments.* exclude (host_id)
    from {{ ref('stg_registry__serving_deployments') }} as deployments
    inner join host_keys on deployments.host_id = host_keys.host_id
),

hosts as (
    select host_keys.host_key, hosts.* exclude (host_id)
    from {{ ref('stg_inventory__hosts') }} as hosts
    inner join host_keys on hosts.host_id = host_keys.host_id
),

maintenance as (
    select host_keys.host_key, maintenance.* exclude (host_id)
    from {{ ref('stg_inventory__maintenance_windows') }} as maintenance
    inner join host_keys on maintenance.host_id = host_keys.host_id
),

queue as (
    select * from {{ ref('int_job_queue_islands') }}
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

-- how many replicas a Kubernetes node declares per GPU (time-slicing), by export day
nodes as (
    select host_keys.host_key, nodes.valid_on, nodes.gpu_replicas
    from {{ ref('stg_scheduler__k8s_nodes') }} as nodes
    inner join host_keys on nodes.host_id = host_keys.host_id
),

-- a tie (the same instant from two collectors) is ordered so the richer collector's sample comes last and covers
-- the time; the other gets a zero gap and no piece. Per sample, time is integer epoch microseconds (at_us): the
-- hour and day below are integer arithmetic, far cheaper than timestamptz functions on every row
gaps as (
    select
        *,
        lead(at_us) over (
            partition by host_key, gpu_index, gpu_instance_id, gpu_replica
            order by at_us, source_format desc nulls first
        ) - at_us as gap_us
    from (select *, epoch_us(measured_at) as at_us from samples)
),

-- a sample never covers time across the start or end of a maintenance window: that time is down_planned
boundaries as (
    select host_key, starts_at as boundary_at from maintenance
    union
    select host_key, ends_at as boundary_at from maintenance
),

-- the cluster's queue as consecutive segments, each with the GPU families waiting in it ('*' = any family)
queue_points as (
    select cluster, waiting_from as point_at from queue
    union
    select cluster, waiting_until as point_at from queue
),

queue_segments as (
    select
        cluster,
        point_at as segment_from,
        lead(point_at) over (partition by cluster order by point_at) as segment_until
    from queue_points
),

queue_state as (
    select
        queue_segments.cluster,
        queue_segments.segment_from,
        queue_segments.segment_until,
        list(distinct coalesce(queue.gpu_family, '*')) as families_waiting
    from queue_segments
    inner join queue
        on queue_segments.cluster = queue.cluster
        and queue.waiting_from <= queue_segments.segment_from
        and queue.waiting_until >= queue_segments.segment_until
    group by all
),

-- What a host's instant is in: its inventory row in force, a maintenance window, the next maintenance boundary,
-- its cluster's queue. Looked up once per (host, instant), not per GPU sample (a host's GPUs share their scrape
-- instants), each with an ASOF join (a merge on time) so the cost stays linear in the samples.
instants as (
    select distinct host_key, measured_at from samples
),

-- the host's typical scrape gap that day: the median gap between its scrape instants (a GPU's samples share them;
-- one value per host-day from 8x fewer rows than per GPU)
typical as (
    select host_key, measured_at::date as sample_date, median(gap_us) as typical_gap_us
    from (
        select
            host_key,
            measured_at,
            epoch_us(lead(measured_at) over (partition by host_key order by measured_at)) - epoch_us(measured_at)
                as gap_us
        from instants
    )
    where gap_us > 0
    group by all
),

-- the inventory row in force at the instant (none if the host was not inventoried then)
instant_hosts as (
    select
        instants.host_key,
        instants.measured_at,
        hosts.cluster,
        hosts.reservation,
        hosts.gpu_model as inventory_gpu_model
    from instants
    inner join hosts
        on instants.host_key = hosts.host_key
        and instants.measured_at >= hosts.valid_from
        and (hosts.valid_to is null or instants.measured_at < hosts.valid_to)
),

instant_context as (
    select
        instants.host_key,
        instants.measured_at,
        instant_hosts.cluster,
        instant_hosts.reservation,
        skus.family as gpu_family,
        coalesce(instants.measured_at < maintenance.ends_at, false) as in_maintenance,
        epoch_us(boundaries.boundary_at) - epoch_us(instants.measured_at) as to_boundary_us,
        typical.typical_gap_us,
        coalesce(
            instants.measured_at < queue_state.segment_until
            and (list_contains(queue_state.families_waiting, skus.family)
                or list_contains(queue_state.families_waiting, '*')),
            false
        ) as same_family_waiting,
        coalesce(
            instants.measured_at < queue_state.segment_until
            and len(list_filter(queue_state.families_waiting, lambda f: f <> '*' and f <> skus.family)) > 0,
            false
        ) as other_family_waiting
    from instants
    left join instant_hosts
        on instants.host_key = instant_hosts.host_key
        and instants.measured_at = instant_hosts.measured_at
    left join skus
        on instant_hosts.inventory_gpu_model = skus.gpu_model
    left join typical
        on instants.host_key = typical.host_key
        and instants.measured_at::date = typical.sample_date
    asof left join maintenance
        on instants.host_key = maintenance.host_key
        and instants.measured_at >= maintenance.starts_at
    asof left join boundaries
        on instants.host_key = boundaries.host_key
        and instants.measured_at < boundaries.boundary_at
    asof left join queue_state
        on instant_hosts.cluster = queue_state.cluster
        and instants.measured_at >= queue_state.segment_from
),

-- the whole GPUs deployments hold (replicas on MIG instances are known by their pods, below)
deployed_gpus as (
    select deployment_id, host_key, unnest(gpu_indices) as gpu_index, started_at, ended_at
    from deployments
    where mig_profile is null
),

-- a deployment's pods (<deployment>-<n>, as a StatefulSet names them) on its host, e.g. on MIG instances
deployed_pods as (
    select distinct deployment_id, host_key from deployments
),

placed as (
    select
        gaps.*,
        instant_context.* exclude (host_key, measured_at, to_boundary_us),
        coalesce(least(
            coalesce(gaps.gap_us, instant_context.typical_gap_us),
            {{ var('telemetry_gap_factor') }} * instant_context.typical_gap_us,
            3600e6,
            instant_context.to_boundary_us
        ), 0)::bigint as covered_us,
        case
            when gaps.hpc_job_id is not null then gaps.hpc_job_id
            when gaps.pod_name is not null then gaps.pod_allocation_id
            else deployed_gpus.deployment_id
        end as allocation_id,
        case
            when gaps.hpc_job_id is not null then 'slurm'
            when deployed_pods.deployment_id is not null then 'serving'
            when gaps.pod_name is not null then 'kubernetes'
            when deployed_gpus.deployment_id is not null then 'serving'
        end::enum('slurm', 'kubernetes', 'serving') as allocation_source
    from (
        select
            *,
            -- the pod's workload (a notebook's stateful pod jupyter-<user>-0 is its Job's, d-0 deployment d's)
            {{ pod_allocation_id('pod_name') }} as pod_allocation_id
        from gaps
    ) as gaps
    left join instant_context
        on gaps.host_key = instant_context.host_key
        and gaps.measured_at = instant_context.measured_at
    left join deployed_pods
        on gaps.host_key = deployed_pods.host_key
        and gaps.pod_allocation_id = deployed_pods.deployment_id
        and gaps.hpc_job_id is null
    -- a sample that names its pod is held by it: the deployment's GPUs are looked up only for the others
    left join deployed_gpus
        on gaps.host_key = deployed_gpus.host_key
        and gaps.pod_name is null
        and gaps.gpu_instance_id is null
        and gaps.gpu_index = deployed_gpus.gpu_index
        and gaps.measured_at >= deployed_gpus.started_at
        and (deployed_gpus.ended_at is null or gaps.measured_at < deployed_gpus.ended_at)
),

classified as (
    select
        *,
        case
            when in_maintenance then 'down_planned'
            when reservation = 'dr_buffer' then 'reserved_dr'
            when reservation = 'push_buffer' then 'reserved_push'
            when allocation_id is not null and gpu_util_ratio < {{ var('allocated_idle_util_threshold') }}
                then 'allocated_idle'
            when allocation_id is not null then 'allocated_active'
            when same_family_waiting then 'idle_fragmented'
            when other_family_waiting then 'idle_hw_mismatch'
            else 'idle_no_demand'
        -- an enum while aggregating: a fleet-day of small integers groups much faster than strings
        end::enum('{{ capacity_states() | join("', '") }}') as capacity_state,
        at_us // 3600000000 * 3600000000 as start_hour_us,
        start_hour_us + 3600000000 - at_us as left_in_hour_us
    from placed
),

-- the covered time up to the end of the sample's hour, and the rest in the next hour (coverage is under an hour)
split as (
    select *, unnest(if(covered_us > left_in_hour_us, [0, 1], [0])) as next_hour
    from classified
),

pieces as (
    select
        *,
        start_hour_us + next_hour * 3600000000 as hour_us,
        if(next_hour = 0, least(covered_us, left_in_hour_us), covered_us - left_in_hour_us) as piece_us
    from split
),

-- what the GPU was in the hour (its identity and collector), read from the samples apart from their covered time:
-- strings carried through the window and joins above and aggregated per row would cost more than this scan
identities as (
    select
        host_key,
        gpu_index,
        epoch_us(measured_at) // 3600000000 * 3600000000 as hour_us,
        any_value(gpu_uuid) as gpu_uuid,
        any_value(gpu_model) as gpu_model,
        any_value(source_format) as source_format,
        any_value(gpu_util_counter) as gpu_util_counter,
        bool_or(gpu_instance_id is not null) as mig_partitioned
    from samples
    where {{ in_batch('measured_at') }}
    group by all
),

-- the GPU's board, which a MIG instance's share is a part of (its model name, the same on all its samples)
gpu_models as (
    select host_key, gpu_index, any_value(gpu_model) as gpu_model
    from identities
    group by all
),

-- the covered time of each capacity unit of the GPU: the GPU itself, or a MIG instance, or a time-sliced replica
units_us as (
    select
        host_key,
        gpu_index,
        hour_us,
        at_us // 86400000000 * 86400000000 as sample_day_us,
        gpu_instance_id,
        gpu_instance_profile,
        gpu_replica,
        allocation_source,
        allocation_id,
        capacity_state,
        sum(piece_us) as unit_us,
        {#- each reading x covered microseconds, and the covered microseconds that had the reading #}
        {%- for reading in telemetry_readings() %}
        sum({{ reading }} * piece_us) as {{ reading }}_x_us,
        coalesce(sum(piece_us) filter (where {{ reading }} is not null), 0) as {{ reading }}_us,
        {%- endfor %}
        max(gpu_temp_c) as max_gpu_temp_c,
        max(xid_error) filter (where xid_error > 0) as xid_error
    from pieces
    where piece_us > 0 and {{ in_batch('measured_at') }}
    group by all
),

-- back to timestamps once aggregated (make_timestamptz reads epoch microseconds, whatever the session time zone)
units as (
    select
        * exclude (hour_us, sample_day_us),
        make_timestamptz(hour_us) as hour_at,
        make_timestamptz(sample_day_us) as sample_day_at
    from units_us
),

-- Each unit's share of the physical GPU, in 2520ths (divisible by a board's 7 or 4 slices and by 1-10 replicas, so
-- a GPU's shares are exact integers that sum to 2520): a MIG instance's N compute slices of its board's; a
-- time-sliced replica (dcgm-exporter's vgpu copies) one of the replicas its node declares (its latest node export),
-- else of those seen on the GPU that hour; else all of it
shares as (
    select
        units.*,
        2520 * coalesce({{ mig_slices('units.gpu_instance_profile') }}, 1) // (
            if(units.gpu_instance_profile is null, 1, {{ mig_board_slices('gpu_models.gpu_model') }})
            * if(units.gpu_replica is null, 1, coalesce(nullif(nodes.gpu_replicas, 1), count(distinct units.gpu_replica) over (
                partition by units.host_key, units.gpu_index, units.hour_at, units.sample_day_at, units.gpu_instance_id
            )))
        ) as share_units
    from units
    left join gpu_models
        on units.host_key = gpu_models.host_key
        and units.gpu_index = gpu_models.gpu_index
    asof left join nodes
        on units.host_key = nodes.host_key
        and units.hour_at::date >= nodes.valid_on
),

covered as (
    select
        host_key,
        gpu_index,
        hour_at,
        sample_day_at,
        allocation_source,
        allocation_id,
        capacity_state,
        -- the GPU's time, in 2520ths of a microsecond: exact integers (apportioned to microseconds below)
        sum(unit_us * share_units) as covered_units,
        {%- for reading in telemetry_readings() %}
        sum({{ reading }}_x_us * share_units) / 2520 as {{ reading }}_x_us,
        sum({{ reading }}_us * share_units) / 2520 as {{ reading }}_us,
        {%- endfor %}
        max(max_gpu_temp_c) as max_gpu_temp_c,
        max(xid_error) as xid_error
    from shares
    group by host_key, gpu_index, hour_at, sample_day_at, allocation_source, allocation_id, capacity_state
),

-- to the GPU's microseconds, rounded so the GPU-hour's rows still sum exactly: each row gets the difference of the
-- rounded running totals (a whole GPU's time stays what it was)
apportioned as (
    select
        * exclude (covered_units),
        sum(covered_units) over running // 2520 - coalesce(sum(covered_units) over before // 2520, 0) as covered_us
    from covered
    window
        running as (
            partition by host_key, gpu_index, hour_at, sample_day_at
            order by allocation_source, allocation_id, capacity_state
            rows between unbounded preceding and current row
        ),
        before as (
            partition by host_key, gpu_index, hour_at, sample_day_at
            order by allocation_source, allocation_id, capacity_state
            rows between unbounded preceding and 1 preceding
        )
),

final as (
    select
        host_keys.host_id,
        covered.gpu_index,
        covered.hour_at,
        covered.sample_day_at,
        covered.allocation_source::varchar as allocation_source,
        covered.allocation_id,
        covered.capacity_state::varchar as capacity_state,
        -- NULL on the rows of the next day's hour 00 (this batch has not its samples); that day's rows have them
        identities.gpu_uuid,
        identities.gpu_model,
        identities.source_format,
        identities.gpu_util_counter,
        identities.mig_partitioned,
        covered.covered_us,
        covered.* exclude (
            host_key, gpu_index, hour_at, sample_day_at, allocation_source, allocation_id, capacity_state, covered_us
        )
    from apportioned as covered
    left join identities
        on covered.host_key = identities.host_key
        and covered.gpu_index = identities.gpu_index
        and epoch_us(covered.hour_at) = identities.hour_us
    inner join host_keys on covered.host_key = host_keys.host_key
)

select * from final
