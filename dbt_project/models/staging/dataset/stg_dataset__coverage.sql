-- one row per subject a dataset declares: how much of it the trace covers (full, sample, none)
with source as (
    select * from {{ source('dataset', 'dataset_coverage') }}
),

renamed as (
    select dataset, subject, coverage, note
    from source
    {{ latest_partition_row('subject') }}
)

select * from renamed
