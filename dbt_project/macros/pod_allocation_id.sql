{#- The holder a Kubernetes pod's GPU time is charged to, from the pod's name: its workload's name, as the
    telemetry names it from the pod label (int_gpu_hours_by_allocation_and_state):
    <job>-<role>-<n> (training operators), <job>-<5 chars> (a batch Job's pods), <job>-<n> (a StatefulSet's). -#}
{% macro pod_allocation_id(pod_name) -%}
    regexp_replace({{ pod_name }}, '-((worker|master|launcher|chief)-\d+|[a-z0-9]{5}|\d+)$', '')
{%- endmacro %}
