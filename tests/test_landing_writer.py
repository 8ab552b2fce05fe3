"""The one landing writer of the producers (generators/landing.py) takes its column contracts from the source
registry: what it writes, every production loader reads, and a frame that breaks the contract never lands."""

import json
from datetime import date

import polars as pl
import pytest

from generators.landing import ContractError, Landing, empty_frame
from pipelines.ingest.registry import BY_TABLE

DAY = date(2025, 3, 3)


@pytest.fixture
def out(tmp_path):
    return Landing(tmp_path / "landing")


def test_a_frame_lands_in_its_table_and_day_in_the_contracts_column_order(out):
    frame = pl.DataFrame({"email": ["a@example.com"], "team": ["vision"], "user_name": ["a"]})
    path = out.write("users", DAY, "users.csv", frame)
    assert path == out.root / "users" / "dt=2025-03-03" / "users.csv"
    assert path.read_text() == "user_name,team,email\na,vision,a@example.com\n"
    parsed = BY_TABLE["users"].loader.parse(path)
    assert parsed.rejects.is_empty() and parsed.rows["team"].to_list() == ["vision"]


def test_optional_columns_may_be_left_out_required_ones_may_not(out):
    out.write("users", DAY, "users.csv", pl.DataFrame({"user_name": ["a"], "team": ["vision"]}))
    with pytest.raises(ContractError, match="lacks required column.*team"):
        out.write("users", DAY, "users.csv", pl.DataFrame({"user_name": ["a"]}))


def test_a_column_the_contract_lacks_an_empty_required_value_and_a_wrong_type_are_refused(out):
    with pytest.raises(ContractError, match="nickname are not in its contract"):
        out.write("users", DAY, "users.csv", pl.DataFrame({"user_name": ["a"], "team": ["t"], "nickname": ["x"]}))
    with pytest.raises(ContractError, match="team have empty values"):
        out.write(
            "users",
            DAY,
            "users.csv",
            pl.DataFrame({"user_name": ["a"], "team": [None]}, schema=[("user_name", pl.String), ("team", pl.String)]),
        )
    with pytest.raises(ContractError, match="headcount"):
        out.write(
            "team_headcount", DAY, "h.csv", pl.DataFrame({"team": ["t"], "month": ["2025-03"], "headcount": [1.5]})
        )


def test_records_land_as_json_lines_contract_keys_first_and_extra_keys_only_where_kept(out):
    record = {"event": "submitted", "n_gpus": 8, "run_id": "r1", "ts": "2025-03-03T00:00:00.000Z"}
    path = out.write("training_events", DAY, "events.jsonl", [record])
    assert json.loads(path.read_text()) == record
    assert list(json.loads(path.read_text())) == ["ts", "run_id", "event", "n_gpus"]  # `attributes` keeps n_gpus
    with pytest.raises(ContractError, match="not in its contract"):
        out.write(
            "model_stage_events",
            DAY,
            "s.jsonl",
            [{"event_time": "2025-03-03T00:00:00Z", "model_name": "m", "to_stage": "deployed", "x": 1}],
        )
    with pytest.raises(ContractError, match="lacks required key"):
        out.write("k8s_jobs", DAY, "k.jsonl", [{"kind": "Job"}])


def test_a_name_the_loader_would_not_list_an_unknown_table_and_text_for_a_column_contract_are_refused(out):
    with pytest.raises(ContractError, match="matches none of its patterns"):
        out.write_text("dcgm_samples", DAY, "host.csv", "# nothing\n")
    with pytest.raises(ContractError, match="no raw source"):
        out.write("hostz", DAY, "hosts.csv", pl.DataFrame({"host": ["h"]}))
    with pytest.raises(ContractError, match="column contract"):
        out.write_text("users", DAY, "users.csv", "user_name,team\n")


def test_no_rows_lands_a_header_of_every_contract_column(out):
    path = out.write("adapter_rejects", DAY, "x.csv", [])
    assert path.read_text().strip().split(",") == list(BY_TABLE["adapter_rejects"].loader.columns)
    assert empty_frame("hosts").columns == list(BY_TABLE["hosts"].loader.columns)


def test_columnar_telemetry_and_sacct_frames_are_checked_against_what_their_loaders_read(out):
    ok = pl.DataFrame({"timestamp": [1], "Hostname": ["h"], "gpu": [0], "DCGM_FI_DEV_GPU_UTIL": [50.0]})
    out.write("gpu_samples", DAY, "s.parquet", ok)
    with pytest.raises(ContractError, match="no hostname column"):
        out.write("gpu_samples", DAY, "s.parquet", ok.drop("Hostname"))
    with pytest.raises(ContractError, match="GPU_UTILISATION"):
        out.write("gpu_samples", DAY, "s.parquet", ok.rename({"DCGM_FI_DEV_GPU_UTIL": "GPU_UTILISATION"}))
    with pytest.raises(ContractError, match="sacct_jobs: fields .*Cluster"):
        out.write("sacct_jobs", DAY, "s.txt", pl.DataFrame({"JobID": ["1"]}))
