{#- A stable pseudonym for a person: 'u_' + 12 hex of sha256(key ':' lower(name)). Lower case, so `Alice` in a job
    name and `alice` in sacct's User column are one person with one pseudonym (a group that names nobody gets
    prefix 'g_', see model identities). The key comes from WAREHOUSE_PSEUDONYM_KEY, which the Dagster dbt asset
    sets from configuration or the warehouse's key file (never the repo). -#}
{% macro pseudonym(col, prefix='u_') -%}
    case when coalesce({{ col }}, '') <> ''
        then '{{ prefix }}' || left(sha256('{{ env_var("WAREHOUSE_PSEUDONYM_KEY", "") }}' || ':' || lower({{ col }})), 12)
    end
{%- endmacro %}
