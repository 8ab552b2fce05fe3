"""The producers of landing files, outside the pipeline: the seeded fleet simulator (`sim`), the public-trace
adapters (`traces`) and the benchmark-scale fleet (`fleet_scale`). They share one writer (`landing`), whose
column contracts come from the pipeline's source registry; the pipeline never imports them."""
