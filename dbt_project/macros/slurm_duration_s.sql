{#- Slurm durations: [DD-][HH:]MM:SS[.mmm] -> seconds. NULL for anything else (e.g. UNLIMITED). -#}
{% macro slurm_duration_s(col) -%}
    case when regexp_full_match({{ col }}, '(\d+-)?(\d+:)?\d+:\d+(\.\d+)?') then
        coalesce(try_cast(nullif(regexp_extract({{ col }}, '^(\d+)-', 1), '') as bigint), 0) * 86400
        + list_reduce(
            list_transform(
                string_split(regexp_replace({{ col }}, '^\d+-', ''), ':'),
                lambda x: try_cast(x as double)
            ),
            lambda acc, x: acc * 60 + x
        )
    end
{%- endmacro %}
