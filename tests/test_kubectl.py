"""Kubernetes exports as kubectl writes them (`kubectl get pods|jobs -A -o json`, `kubectl get nodes -o json`: one
v1 List document per cluster and day): each item is a row, numbered by its position in `items`; a document that
is not a List (a truncated export) is quarantined whole. Then the pods through dbt staging: GPUs from their
limits (MIG shares, time-sliced nodes), the failures a user meets (an unknown MIG profile, a pod no node took)."""

import shutil

import duckdb
import pytest
from conftest import FIXTURES, build_partial_warehouse

from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day

KUBECTL = FIXTURES / "kubernetes"
DAY = "2025-03-03"


def land(landing, table: str, fixture: str, name: str):
    path = landing / table / f"dt={DAY}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(KUBECTL / fixture, path)
    return path


def test_a_pods_list_is_a_row_per_item_numbered_by_its_place_in_items():
    parsed = BY_TABLE["k8s_pods"].loader.parse(KUBECTL / "pods.json")
    assert parsed.rejects.is_empty()
    assert parsed.rows["source_line"].to_list() == list(range(1, 8))
    assert set(parsed.rows["kind"]) == {"Pod"} and set(parsed.rows["api_version"]) == {"v1"}
    assert '"name":"train-llm-7x2kq"' in parsed.rows["metadata"][0]


def test_a_truncated_list_is_quarantined_as_one_document():
    parsed = BY_TABLE["k8s_pods"].loader.parse(KUBECTL / "pods_truncated.json")
    assert parsed.rows.is_empty()
    assert parsed.rejects.select("source_line", "reason").rows() == [(1, "bad_document")]
    assert "not valid JSON" in parsed.rejects["message"][0]


def test_a_list_of_the_wrong_kind_is_quarantined_item_by_item():
    parsed = BY_TABLE["k8s_jobs"].loader.parse(KUBECTL / "pods.json")  # pods dropped where the Jobs go
    assert parsed.rows.is_empty()
    assert set(parsed.rejects["reason"]) == {"unknown_value"} and parsed.rejects.height == 7


def test_a_day_of_lists_and_json_lines_reconciles(tmp_path):
    landing = tmp_path / "landing"
    paths = [
        land(landing, "k8s_pods", "pods.json", "c1.json"),
        land(landing, "k8s_pods", "pods_truncated.json", "c2.json"),
    ]
    lines = landing / "k8s_pods" / f"dt={DAY}" / "c3.jsonl"
    lines.write_text('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}\nnot json\n')
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        summary = replace_day(con, BY_TABLE["k8s_pods"], DAY, landed([*paths, lines], landing))
        assert summary == {"files": 3, "rows_read": 10, "rows_loaded": 8, "rows_quarantined": 2}
        audit = con.execute(
            "select source_file, rows_read, rows_loaded, rows_quarantined, status from raw.load_audit order by 1"
        ).fetchall()
        assert audit == [
            (f"k8s_pods/dt={DAY}/c1.json", 7, 7, 0, "loaded"),
            (f"k8s_pods/dt={DAY}/c2.json", 1, 0, 1, "rejected"),
            (f"k8s_pods/dt={DAY}/c3.jsonl", 2, 1, 1, "partial"),
        ]
        assert con.execute("select reason, source_line from raw.quarantine order by 1").fetchall() == [
            ("bad_document", 1),
            ("bad_json", 2),
        ]


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """The kubectl fixtures loaded (every source's raw table created, the others empty) and the Kubernetes
    staging built by dbt on them."""
    root = tmp_path_factory.mktemp("kubectl")
    landing, work = root / "landing", root / "warehouse.duckdb"
    land(landing, "k8s_pods", "pods.json", "c1.json")
    land(landing, "k8s_nodes", "nodes.json", "c1.json")
    land(landing, "k8s_jobs", "jobs.json", "c1.json")
    build_partial_warehouse(work, landing, [DAY], "+int_pods_joined_to_nodes")
    with duckdb.connect(str(work), read_only=True) as con:
        yield {
            r[0]: dict(zip([d[0] for d in con.description], r, strict=True))
            for r in con.execute("select * from intermediate.int_pods_joined_to_nodes").fetchall()
        }


def test_pods_hold_their_share_of_physical_gpus(staged):
    assert staged["train-llm-7x2kq"]["gpus"] == 8 and staged["train-llm-7x2kq"]["state"] == "COMPLETED"
    # nvidia.com/mig-1g.10gb: 1 = one 1g instance, 1/7 of an A100
    assert staged["infer-7b9d6f5c8-q4w2z"]["gpus"] == pytest.approx(1 / 7)
    # nvidia.com/gpu: 1 on a node whose 4 GPUs are each advertised 4 times (time-slicing): a quarter of a GPU
    notebook = staged["jupyter-nb-0"]
    assert notebook["gpus"] == 0.25 and notebook["sharing_strategy"] == "time-slicing"


def test_an_unknown_mig_profile_is_kept_with_no_share(staged):
    pod = staged["infer-big-0"]
    assert pod["gpus"] is None and pod["gpu_request_problem"] == "unknown_mig_profile"
    assert pod["unknown_mig_profiles"] == ["5g.50gb"]


def test_a_pod_without_a_node_holds_nothing(staged):
    pod = staged["sweep-lr-3-g8h2k"]
    assert pod["node_name"] is None and pod["started_at"] is None and pod["ended_at"] is None
    assert pod["state"] == "PENDING" and pod["allocation_id"] == "sweep-lr-3"


def test_termination_reasons_and_owners(staged):
    assert staged["finetune-oom-p9d4m"]["state"] == "OUT_OF_MEMORY"
    assert staged["eval-batch-k2j7s"]["state"] == "PREEMPTED"  # Evicted
    assert staged["eval-batch-k2j7s"]["ended_at"].isoformat().startswith("2025-03-03T03:30:00")
    # a Job's pod rolls up to the Job (exported: the Job, not the pod, is the holder)
    assert staged["train-llm-7x2kq"]["allocation_id"] == "train-llm" and staged["train-llm-7x2kq"]["is_exported_job"]
    # a ReplicaSet's pod: its name without the replica suffix, as the telemetry reads the pod label
    assert staged["infer-7b9d6f5c8-q4w2z"]["allocation_id"] == "infer-7b9d6f5c8"
