"""The Dagster code location: everything under pipelines/defs, autoloaded."""

import dagster as dg

import pipelines.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(pipelines.defs)
