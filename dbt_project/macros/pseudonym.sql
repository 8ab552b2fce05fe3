{#- A stable pseudonym for a person: keyed hash, the key from the environment (never from the repo). -#}
{% macro pseudonym(col) -%}
    case when {{ col }} is not null
        then 'u_' || left(sha256('{{ env_var("WAREHOUSE_PSEUDONYM_KEY", "") }}' || ':' || {{ col }}), 12)
    end
{%- endmacro %}
