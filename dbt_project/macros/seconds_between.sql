{#- Exact seconds from one timestamp to a later one, DECIMAL(18, 6) from integer microseconds: durations sum and
    average the same on every rerun. -#}
{% macro seconds_between(from_at, until_at) -%}
    {{ us_to_s('epoch_us(' ~ until_at ~ ') - epoch_us(' ~ from_at ~ ')') }}
{%- endmacro %}
