{#- Daily exports repeat the same entity (a job seen on several days, an inventory snapshot): keep the row from
    the newest partition, and the last line of that file. -#}
{% macro latest_partition_row(key) -%}
    qualify row_number() over (
        partition by {{ key }} order by partition_date desc, source_file desc, source_line desc
    ) = 1
{%- endmacro %}
