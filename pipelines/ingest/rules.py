"""The rules landed data must keep, as data: the loaders apply the line rules to every line they read (a line that
breaks one is quarantined with the rule's reason), and the Great Expectations suites are built from the day rules,
which judge a loaded day as a whole. One table, so a range or a set of values is written once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# a measurement more than this far outside its partition's day is misfiled or from a skewed clock: it would land in
# the wrong day and be replaced with the wrong partition
SKEW_TOLERANCE = timedelta(days=1)
# DCGM reports "no value" with sentinels near the top of int64 / at 2^47 for doubles (dcgm_structs.h *_BLANK)
DCGM_BLANK_INT64_MIN = 9223372036854775792.0
DCGM_BLANK_FP64 = 140737488355328.0
MAX_ROWS_PER_DAY = 500_000_000
MAX_GPU_MEMORY_MIB = 512 * 1024
MAX_GPU_POWER_W = 2000
MAX_XID = 1000  # NVIDIA's XID catalogue ends in the 100s; 4294967295 is an unset 32-bit counter, not an error
# the XID field's blank is "no XID since the driver loaded" (dcgm-exporter 4.x prints it where 3.x printed 0): no
# error, loaded as an empty reading, not quarantined as a missing one
XID_FIELDS = ("DCGM_FI_DEV_XID_ERRORS",)
# PCIe throughput in bytes per second (DCGM_FI_PROF_PCIE_*_BYTES): PCIe 6.0 x16 moves ~128 GB/s each way
MAX_PCIE_BYTES_PER_S = 512e9


@dataclass(frozen=True)
class Reading:
    """A GPU reading's possible range, in the unit dcgm-exporter reports it, and its column in each telemetry table."""

    field: str  # DCGM field as dcgm-exporter names the metric; a name ending in `_` covers every field it begins
    low: float | None
    high: float | None
    gpu_samples: str | None = None  # column in the canonical columnar telemetry
    nvidia_smi: str | None = None  # column in the nvidia-smi log table
    model_limit: str | None = None  # "memory" or "power": also bounded by the GPU model's own (GPU_MODELS)

    @property
    def is_percent(self) -> bool:
        return self.high == 100


READINGS = [
    Reading("DCGM_FI_DEV_GPU_UTIL", 0, 100, "gpu_util_pct", "utilization_gpu_pct"),
    Reading("DCGM_FI_DEV_MEM_COPY_UTIL", 0, 100, "mem_copy_util_pct", "utilization_memory_pct"),
    Reading("DCGM_FI_DEV_ENC_UTIL", 0, 100),
    Reading("DCGM_FI_DEV_DEC_UTIL", 0, 100),
    # ratios, although their HELP text says "(in %)"
    Reading("DCGM_FI_PROF_SM_ACTIVE", 0, 1, "sm_active"),
    # dcgm-exporter 4.x's default set has it (and not SM_ACTIVE); the utilisation of a MIG instance, whose
    # DCGM_FI_DEV_GPU_UTIL is not supported
    Reading("DCGM_FI_PROF_GR_ENGINE_ACTIVE", 0, 1, "gr_engine_active"),
    Reading("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 0, 1, "tensor_active"),
    Reading("DCGM_FI_PROF_DRAM_ACTIVE", 0, 1, "dram_active"),
    # gauges in bytes per second, not ratios (before the PROF_ rule below, which would reject every one)
    Reading("DCGM_FI_PROF_PCIE_TX_BYTES", 0, MAX_PCIE_BYTES_PER_S, "pcie_tx_bytes_per_s"),
    Reading("DCGM_FI_PROF_PCIE_RX_BYTES", 0, MAX_PCIE_BYTES_PER_S, "pcie_rx_bytes_per_s"),
    Reading("DCGM_FI_PROF_", 0, 1),
    # physical limits with room to spare: no GPU has 512 GiB of memory (the largest, 288 GB) or draws 2 kW (the
    # largest, ~1.2 kW); a reading beyond them is a broken counter, which would be averaged into the marts
    Reading("DCGM_FI_DEV_FB_USED", 0, MAX_GPU_MEMORY_MIB, "fb_used_mib", "memory_used_mib", "memory"),
    Reading("DCGM_FI_DEV_FB_FREE", 0, MAX_GPU_MEMORY_MIB, "fb_free_mib", "memory_free_mib", "memory"),
    Reading("DCGM_FI_DEV_FB_TOTAL", 0, MAX_GPU_MEMORY_MIB, None, "memory_total_mib", "memory"),
    Reading("DCGM_FI_DEV_FB_RESERVED", 0, MAX_GPU_MEMORY_MIB, "fb_reserved_mib", None, "memory"),
    Reading("DCGM_FI_DEV_POWER_USAGE", 0, MAX_GPU_POWER_W, "power_w", "power_draw_w", "power"),
    Reading("DCGM_FI_DEV_GPU_TEMP", -40, 150, "gpu_temp_c", "temperature_gpu_c"),
    Reading("DCGM_FI_DEV_MEMORY_TEMP", -40, 150),
    Reading("DCGM_FI_DEV_XID_ERRORS", 0, MAX_XID, "xid"),
]


@dataclass(frozen=True)
class GpuModel:
    """A GPU family's physical limits, for the model names exporters and nvidia-smi report."""

    pattern: str  # a regular expression, case-insensitive, on the reported model name
    memory_gib: int  # the board's memory: no reading of used, free or total memory exceeds it
    max_power_w: int  # the highest power limit the board can be set to
    mig_slices: int | None = None  # compute slices of a MIG-capable board (a `<N>g.<M>gb` instance has N of them)


# first match wins (the more specific names first); a model not listed has only the READINGS limits
GPU_MODELS = [
    GpuModel(r"GB200", 192, 1200, 7),
    GpuModel(r"B200", 192, 1000, 7),
    GpuModel(r"H200", 141, 700, 7),
    GpuModel(r"H100.*NVL", 94, 400, 7),
    GpuModel(r"H100.*PCIe", 80, 350, 7),
    GpuModel(r"H[18]00", 80, 700, 7),
    GpuModel(r"A[18]00.*40GB", 40, 400, 7),
    GpuModel(r"A[18]00", 80, 400, 7),
    GpuModel(r"\bA30\b", 24, 165, 4),
    GpuModel(r"L40", 48, 350),
    GpuModel(r"\bL4\b", 24, 75),
    GpuModel(r"\bA10G?\b", 24, 300),
    GpuModel(r"\bT4\b", 16, 70),
    GpuModel(r"V100.*32GB", 32, 350),
    GpuModel(r"V100", 16, 350),
]
# a sampled power reading may exceed the limit in a short excursion, not by a quarter: beyond it, a broken counter
POWER_EXCURSION = 1.25


# a MIG instance's profile as dcgm-exporter labels it (GPU_I_PROFILE) and the device plugin names its resource
# (nvidia.com/mig-<profile>): <compute slices>g.<memory>gb, optionally +me (media extensions) or -me
MIG_PROFILE = r"^([1-8])g\.[0-9]+gb([+-]me)?$"
MIG_SIZES = {7: (1, 2, 3, 4, 7), 4: (1, 2, 4)}  # the instance sizes a board of 7 or 4 slices can be cut into


def mig_sizes_sql(model_name: str) -> str:
    """SQL: the instance sizes a GPU of `model_name` can be cut into (a board of 7 slices where unlisted)."""
    sizes = " ".join(
        f"when regexp_matches({model_name}, '(?i){m.pattern}') then {list(MIG_SIZES.get(m.mig_slices, ()))}"
        for m in GPU_MODELS
    )
    return f"coalesce(case {sizes} end, {list(MIG_SIZES[7])})"


def unknown_mig_profile_sql(profile: str, sizes: str) -> str:
    """SQL: whether the MIG profile named by `profile` (when not NULL) is not one the GPU's board has: not of the
    form <N>g.<M>gb, or N not among `sizes` (SQL of the board's instance sizes, mig_sizes_sql)."""
    slices = f"regexp_extract({profile}, '{MIG_PROFILE}', 1)"
    return f"({profile} is not null and not coalesce(list_contains({sizes}, try_cast({slices} as integer)), false))"


def model_limits_sql(model_names: str) -> str:
    """SQL: each distinct model_name of the relation `model_names` with its GPU family's limits (model_limit_sql,
    mig_sizes_sql), judged once per name: the regular expressions cost ~0.5 µs each, and a fleet-day has 14
    million samples. Columns: model_name, memory_limit, power_limit, mig_sizes."""
    # a model's bound depends only on the kind of reading (model_limit): one reading of each kind gives it
    bounded = [next(r for r in READINGS if r.model_limit == kind) for kind in ("memory", "power")]
    limits = ", ".join(f"{model_limit_sql(r, 'model_name')} as {model_limit_column(r)}" for r in bounded)
    return f"""select model_name, {limits}, {mig_sizes_sql("model_name")} as mig_sizes
        from (select distinct model_name from {model_names})"""


def model_limit_column(reading: Reading) -> str | None:
    """The column of model_limits_sql holding the reading's bound on its GPU model (None: not bounded by model)."""
    return f"{reading.model_limit}_limit" if reading.model_limit else None


def model_limit(reading: Reading, model: GpuModel) -> float | None:
    """A reading's upper bound on a GPU of `model`, in the reading's unit (MiB, W); None: not bounded by model."""
    if reading.model_limit == "memory":
        return model.memory_gib * 1024
    if reading.model_limit == "power":
        return model.max_power_w * POWER_EXCURSION
    return None


def model_limit_sql(reading: Reading, model_name: str) -> str | None:
    """SQL: the reading's bound on the GPU model named by the SQL expression `model_name` (NULL: not listed)."""
    if reading.model_limit is None:
        return None
    cases = " ".join(
        f"when regexp_matches({model_name}, '(?i){m.pattern}') then {model_limit(reading, m)}" for m in GPU_MODELS
    )
    return f"case {cases} end"


@dataclass(frozen=True)
class Between:
    """Line rule: a value, when present, lies in [low, high] (None: unbounded). Each line rule gives its
    violation as SQL over the raw columns (`name` quotes a raw column)."""

    column: str
    low: float | None
    high: float | None = None
    reason = "out_of_range"

    def violated_sql(self, name: Callable[[str], str]) -> str:
        low = [f"{name(self.column)} < {self.low}"] if self.low is not None else []
        high = [f"{name(self.column)} > {self.high}"] if self.high is not None else []
        return " or ".join(low + high)

    def describe(self) -> str:
        bounds = [f">= {self.low}" if self.low is not None else "", f"<= {self.high}" if self.high is not None else ""]
        return f"{self.column} must be {' and '.join(b for b in bounds if b)}"


@dataclass(frozen=True)
class OneOf:
    """Line rule: a value, when present, is one of `values`."""

    column: str
    values: tuple[str, ...]
    reason = "unknown_value"

    def violated_sql(self, name: Callable[[str], str]) -> str:
        return f"{name(self.column)} not in ({', '.join(repr(v) for v in self.values)})"

    def describe(self) -> str:
        return f"{self.column} must be one of {', '.join(self.values)}"


@dataclass(frozen=True)
class Before:
    """Line rule: `earlier` is before `later` when both are present."""

    earlier: str
    later: str
    reason = "end_before_start"

    def violated_sql(self, name: Callable[[str], str]) -> str:
        return f"{name(self.earlier)} >= {name(self.later)}"

    def describe(self) -> str:
        return f"{self.earlier} must be before {self.later}"


@dataclass(frozen=True)
class OneAtATime:
    """Line rule across a day's lines: the periods [start, end) of one key do not overlap (an empty end runs on).
    Of two lines that overlap, the one that starts later (on a tie, the later line) is quarantined: a key holds
    one value at a time, and which of the two is right only the export's owner can say."""

    key: str
    start: str
    end: str
    reason = "overlapping_validity"

    def overlaps_sql(self, name: Callable[[str], str], counted: str, order: str) -> str:
        """Whether a line starts before a period of an earlier-starting line of its key (among `counted` lines)
        has ended."""
        ends = f"max(coalesce({name(self.end)}, 'infinity'::timestamp)) filter (where {counted})"
        window = f"partition by {name(self.key)} order by {name(self.start)}, {order}"
        earlier = f"{ends} over ({window} rows between unbounded preceding and 1 preceding)"
        return f"coalesce({earlier} > {name(self.start)}, false)"

    def describe(self) -> str:
        return f"{self.start}..{self.end} overlaps an earlier-starting line of the same {self.key}"


@dataclass(frozen=True)
class RowsPerDay:
    """Day rule: a loaded day holds between `low` and `high` rows."""

    low: int = 1
    high: int = MAX_ROWS_PER_DAY


@dataclass(frozen=True)
class UniqueTogether:
    """Day rule: no two rows of a day share these columns."""

    columns: tuple[str, ...]


Rule = Between | OneOf | Before | OneAtATime | RowsPerDay | UniqueTogether

EVENTS = (
    "submitted",
    "allocated",
    "init_started",
    "init_finished",
    "compile_started",
    "compile_finished",
    "first_batch",
    "checkpoint_started",
    "checkpoint_saved",
    "data_stall_started",
    "data_stall_finished",
    "progress",
    "publish_started",
    "publish_finished",
    "attempt_ended",
    "job_ended",
)
STAGES = ("experimentation", "training", "evaluation", "deployed", "retired")
POOLS = ("training", "inference", "shared")  # shared: a cluster that mixes both (public traces)
RESERVATIONS = ("none", "dr_buffer", "push_buffer")  # held back as disaster-recovery or push buffer

# per raw table, by raw column name; the telemetry tables' ranges come from READINGS
RULES: dict[str, list[Rule]] = {
    "dcgm_samples": [RowsPerDay()],
    "gpu_samples": [RowsPerDay()],
    "prometheus_samples": [RowsPerDay()],  # the columnar form, pulled: the same day rules as its files
    "nvidia_smi_samples": [RowsPerDay()],
    "hosts": [
        RowsPerDay(),
        OneOf("pool", POOLS),
        OneOf("reservation", RESERVATIONS),
        Between("gpu_count", 0, 16),
        Between("usd_per_gpu_hour", 0),
        Before("valid_from", "valid_to"),
        OneAtATime("host", "valid_from", "valid_to"),
        UniqueTogether(("host", "valid_from")),
    ],
    "maintenance_windows": [Before("starts_at", "ends_at")],
    "gpu_prices": [RowsPerDay(), Between("list_usd_per_gpu_hour", 0), Between("effective_usd_per_gpu_hour", 0)],
    "sacct_jobs": [RowsPerDay()],
    "k8s_jobs": [OneOf("kind", ("Job",))],
    "k8s_pods": [OneOf("kind", ("Pod",))],
    "k8s_nodes": [OneOf("kind", ("Node",))],
    "training_events": [OneOf("event", EVENTS), Between("attempt", 0)],
    "model_stage_events": [OneOf("to_stage", STAGES)],
    "serving_deployments": [Before("started_at", "ended_at")],
    "inference_requests": [Between("context_tokens", 0), Between("generated_tokens", 0), Between("latency_ms", 0)],
    "inference_hourly": [
        Between("requests", 0),
        Between("input_tokens", 0),
        Between("output_tokens", 0),
        Between("latency_p50_ms", 0),
        Between("latency_p99_ms", 0),
    ],
    "users": [RowsPerDay()],
    "team_headcount": [Between("headcount", 0)],
    "dataset_coverage": [
        OneOf("subject", ("inventory", "gpu_telemetry", "jobs", "traffic", "cost")),
        OneOf("coverage", ("full", "sample", "none")),
    ],
    "adapter_rejects": [],
}
LINE_RULES = (Between, OneOf, Before, OneAtATime)


def line_rules(table: str) -> list[Rule]:
    return [r for r in RULES[table] if isinstance(r, LINE_RULES)]


def day_rules(table: str) -> list[Rule]:
    return [r for r in RULES[table] if not isinstance(r, LINE_RULES)]


def partition_window(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the instants a day's partition accepts, in UTC."""
    start = datetime.combine(day, time.min, UTC) - SKEW_TOLERANCE
    return start, start + timedelta(days=1) + 2 * SKEW_TOLERANCE
