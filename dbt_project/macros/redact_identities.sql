{#- A free-text identifier (job, Job, pod or namespace name, group, run id, workload label) with every person's
    name in it replaced by their pseudonym: a lookup in model identifiers_redacted, which rewrote each distinct
    identifier once. DuckDB runs the lookup as a hash join against that small table, so staging a fleet's samples
    costs a probe per row, not a regex. -#}
{% macro redact_identities(col) -%}
    coalesce(
        (select redaction.redacted from {{ ref('identifiers_redacted') }} as redaction
            where redaction.identifier = {{ col }}),
        {{ col }}
    )
{%- endmacro %}
