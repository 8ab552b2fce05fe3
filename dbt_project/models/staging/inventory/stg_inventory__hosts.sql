-- one row per host validity period, from the newest snapshot that lists it
with source as (
    select * from {{ source('inventory', 'hosts') }}
),

renamed as (
    select
        host as host_id,
        cluster,
        region,
        gpu_model,
        gpu_count,
        pool,
        coalesce(nullif(reservation, ''), 'none') as reservation,
        -- money is exact: a DECIMAL rate times integer microseconds sums the same on every rerun
        usd_per_gpu_hour::decimal(12, 6) as usd_per_gpu_hour,
        timezone('UTC', valid_from) as valid_from,
        timezone('UTC', valid_to) as valid_to
    from source
    {{ latest_partition_row('host, valid_from') }}
),

-- a host has one period at a time (the loader quarantines overlaps within a snapshot); across snapshots, one that
-- lists only a host's current period leaves the period an older one listed open: it ends where the next begins
one_at_a_time as (
    select
        * exclude (valid_to, next_from),
        case when next_from < coalesce(valid_to, 'infinity'::timestamptz) then next_from else valid_to end as valid_to
    from (select *, lead(valid_from) over (partition by host_id order by valid_from) as next_from from renamed)
)

select * from one_at_a_time
