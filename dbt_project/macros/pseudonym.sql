{#- A stable pseudonym for a person: 'u_' + 12 hex of sha256(key ':' name), the same formula as
    pipelines/lib/privacy.py. The key comes from WAREHOUSE_PSEUDONYM_KEY, which the Dagster dbt asset sets from
    configuration or the warehouse's key file (never the repo). -#}
{% macro pseudonym(col) -%}
    case when coalesce({{ col }}, '') <> ''
        then 'u_' || left(sha256('{{ env_var("WAREHOUSE_PSEUDONYM_KEY", "") }}' || ':' || {{ col }}), 12)
    end
{%- endmacro %}
