-- one row per trace row its adapter could not represent in the warehouse
with source as (
    select * from {{ source('dataset', 'adapter_rejects') }}
)

select dataset, trace_file, trace_line, reason, message, raw_text
from source
