-- Raw table x partition day: what the loader read, loaded and quarantined, why, and whether it reconciles.
with audit as (
    select * from {{ ref('stg_warehouse__load_audit') }}
),

quarantine as (
    select * from {{ ref('stg_warehouse__quarantine') }}
),

files as (
    select
        table_name,
        partition_date,
        count(*) as files,
        sum(file_bytes) as bytes,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        count(*) filter (where status in ('partial', 'rejected')) as files_with_rejects,
        -- a file whose bytes another file of the day already delivered: read once, counted once
        count(*) filter (where status = 'duplicate') as duplicate_files,
        -- a file seen and not read (permission, a dangling link, a broken gzip): the day loaded without it
        count(*) filter (where status = 'unreadable') as unreadable_files,
        -- a delivery with no data line (an empty file, a header alone): nothing lost, but worth a look
        count(*) filter (where status = 'empty') as empty_files,
        max(loaded_at) as last_loaded_at
    from audit
    group by all
),

reasons as (
    select table_name, partition_date, map(list(reason order by reason), list(lines order by reason)) as quarantined_by_reason
    from (
        select table_name, partition_date, reason, count(*) as lines
        from quarantine
        group by all
    )
    group by all
),

final as (
    select
        files.*,
        files.rows_quarantined / nullif(files.rows_read, 0) as quarantined_ratio,
        files.rows_read = files.rows_loaded + files.rows_quarantined as is_reconciled,
        reasons.quarantined_by_reason
    from files
    left join reasons on files.table_name = reasons.table_name and files.partition_date = reasons.partition_date
)

select * from final
