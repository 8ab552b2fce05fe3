{#- The GPU limits of a Kubernetes pod template's containers (`containers`: the containers' resources.limits as a
    JSON list, e.g. json_extract(spec, '$.containers[*].resources.limits')), as a struct:
      whole_gpus  sum of nvidia.com/gpu (whole devices, or a device plugin's share such as "0.5"),
      mig_gpus    sum over the MIG resources nvidia.com/mig-<profile> (mixed strategy) of count x mig_gpu_share,
      mig_profiles / unknown_mig_profiles  the MIG profiles asked for / those whose share is not known.
    A container without limits asks for nothing. -#}
{% macro k8s_gpu_limits(containers) -%}
    (select {
        'whole_gpus': coalesce(list_sum(list_transform(limits,
            lambda l: try_cast(json_extract_string(l, '$."nvidia.com/gpu"') as double))), 0),
        'mig_gpus': coalesce(list_sum(list_transform(mig, lambda m: m.n * m.share)), 0),
        'mig_profiles': list_transform(mig, lambda m: m.profile),
        'unknown_mig_profiles': list_transform(list_filter(mig, lambda m: m.share is null), lambda m: m.profile)
    } from (
        select limits, flatten(list_transform(limits, lambda l: list_transform(
            list_filter(
                map_entries(coalesce(json_transform(l, '"MAP(VARCHAR, VARCHAR)"'), map())),
                lambda e: starts_with(e.key, 'nvidia.com/mig-')
            ),
            lambda e: {'profile': e.key[16:], 'n': try_cast(e.value as double), 'share': {{ mig_gpu_share('e.key[16:]') }}}
        ))) as mig
        from (select coalesce({{ containers }}, []::json[]) as limits)
    ))
{%- endmacro %}
