from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class WarehouseTranslator(DagsterDbtTranslator):
    """Group dbt models by their layer folder (staging / intermediate / marts)."""

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model":
            return spec.replace_attributes(group_name=props["fqn"][1])
        return spec


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
