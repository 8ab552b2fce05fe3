"""azure-llm-2023: the Azure LLM inference trace (Splitwise, ISCA'24): one hour of requests to two services, code
and conversation, as per-request logs. The files already have the `inference_requests` shape; each service is
named as its model. TIMESTAMP has no zone: read as UTC."""

from __future__ import annotations

import polars as pl

from .account import DatasetLanding

FILES = {"code": "azure/AzureLLMInferenceTrace_code.csv", "conversation": "azure/AzureLLMInferenceTrace_conv.csv"}
TIMESTAMP = "%Y-%m-%d %H:%M:%S%.f"

COVERAGE = {
    "inventory": ("none", "the trace names no hosts or GPUs"),
    "gpu_telemetry": ("none", "no GPU measurements"),
    "jobs": ("none", "no scheduler records"),
    "traffic": ("full", "every request of two services for one hour (2023-11-16 18:15-19:14)"),
    "cost": ("none", "no rates"),
}


def adapt(out: DatasetLanding) -> None:
    for model, trace_file in FILES.items():
        frame = pl.read_csv(out.trace(trace_file), infer_schema=False).with_row_index("trace_line", offset=1)
        out.read(trace_file, frame.height)
        at = pl.col("TIMESTAMP").str.to_datetime(TIMESTAMP, strict=False)
        out.reject(trace_file, frame.filter(at.is_null()), "bad_timestamp", "TIMESTAMP is not a date and time")
        good = frame.filter(at.is_not_null()).select(
            "TIMESTAMP", "ContextTokens", "GeneratedTokens", Model=pl.lit(model)
        )
        out.write_by_day("inference_requests", good, at.dt.date(), f"{model}.csv")
        out.written(trace_file, good.height)
