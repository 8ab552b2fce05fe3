-- GPU x UTC hour for every hour each inventoried GPU existed within the telemetry window (whole UTC days from
-- the first to the last day with any GPU sample), with the part of the hour it existed. The spine of every
-- capacity mart: a GPU that is down or silent still has its rows.
-- Built one UTC day of hours per query (dbt microbatch on hour_at): a daily refresh generates only the days it
-- rebuilds, and the hourly marts read just those days of it.
{{ incremental_by(event_time='hour_at') }}

with hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

gpus as (
    select
        hosts.*,
        greatest(hosts.valid_from, telemetry_window.window_start) as exists_from,
        least(coalesce(hosts.valid_to, telemetry_window.window_end), telemetry_window.window_end) as exists_until,
        unnest(range(hosts.gpu_count)) as gpu_index
    from hosts
    cross join telemetry_window
    -- capacity is measured where there is telemetry: data without any has no capacity rows (not measured)
    where telemetry_window.has_telemetry
),

batch as (  -- the part of each GPU's existence in the batch being built (all of it outside one)
    select
        *,
        greatest(exists_from, {{ batch_start() }}) as batch_from,
        least(exists_until, {{ batch_end() }}) as batch_until
    from gpus
),

spine as (
    select
        *,
        unnest(generate_series(date_trunc('hour', batch_from), batch_until - interval 1 microsecond, interval 1 hour))
            as hour_at
    from batch
    where batch_from < batch_until
),

final as (
    select
        hour_at,
        host_id,
        gpu_index,
        gpu_model,
        cluster,
        region,
        pool,
        reservation,
        usd_per_gpu_hour,
        greatest(hour_at, exists_from) as existing_from,
        least(hour_at + interval 1 hour, exists_until) as existing_until,
        epoch_us(least(hour_at + interval 1 hour, exists_until)) - epoch_us(greatest(hour_at, exists_from))
            as existing_us
    from spine
)

select * from final
