"""The published JSON Schemas: generated from the code, the same in docs/schemas/ and in the
package, and valid for what the agent really emits (a daemon on the simulator, real files)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from drivers.sim.scenario import parse_line
from edge_agent import schemas
from edge_agent.config import parse_config
from edge_agent.errors import ConfigError
from tests.health.live import live_daemon
from tests.kit.helpers import cli, running_daemon
from tests.ops.daemon_config import write_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schemas.schema(name))


def test_docs_schemas_are_what_the_code_generates() -> None:
    assert schemas.stale(DOCS / "schemas") == [], (
        "run: python -m edge_agent.schemas --out docs/schemas"
    )


def test_the_package_ships_the_same_schemas() -> None:
    assert schemas.stale(ROOT / "edge_agent" / "schemas" / "data") == []
    for doc in schemas.PUBLISHED:
        assert schemas.shipped(doc.name) == schemas.schema(doc.name)


def test_check_flags_a_stale_copy_and_the_command_rewrites_it(tmp_path: Path) -> None:
    assert cli("schemas", "--out", str(tmp_path)).returncode == 0
    assert cli("schemas", "--out", str(tmp_path), "--check").returncode == 0
    (tmp_path / "diag.v1.schema.json").write_text("{}\n")
    stale = cli("schemas", "--out", str(tmp_path), "--check")
    assert stale.returncode == 1
    assert "diag.v1.schema.json differs from the code" in stale.stderr


@pytest.mark.parametrize("doc", schemas.PUBLISHED, ids=lambda d: d.name)
def test_each_schema_is_draft_2020_12_with_a_versioned_id(doc: schemas.Published) -> None:
    schema = schemas.schema(doc.name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:edge-agent:schema:{doc.name}:v{doc.version}"
    assert doc.filename == f"{doc.name}.v{doc.version}.schema.json"


def test_growing_documents_say_they_are_open() -> None:
    for name in ("status", "spool-stats"):
        schema = schemas.schema(name)
        assert schema["additionalProperties"] is True
        assert "still growing" in schema["description"]
    assert schemas.schema("diag")["additionalProperties"] is False


# -- scenario lines ------------------------------------------------------------------------------

GOOD_LINES = [
    *(json.loads(line) for line in (DOCS / "scenario-example.jsonl").read_text().splitlines()),
    {"at_ms": 0, "fifo_hex": "a5 c0", "_note": "a comment"},
]
BAD_LINES = [
    {"at_ms": -1, "fifo_hex": "a5"},
    {"at_ms": 1, "fifo_hex": ""},
    {"at_ms": 1, "fifo_hex": "zz"},
    {"at_ms": 1, "fifo_hex": "a5", "sf": 7},
    {**GOOD_LINES[0], "sf": 13},
    {**GOOD_LINES[0], "bw_hz": 200000},
    {**GOOD_LINES[0], "cr": "4/9"},
    {**GOOD_LINES[0], "crc": True},
    {**GOOD_LINES[0], "at_ms": 1.5},
    {**GOOD_LINES[0], "phy": "00" * 256},
    {**GOOD_LINES[0], "extra": 1},
    {k: v for k, v in GOOD_LINES[0].items() if k != "snr_db"},
    [1, 2],
]


@pytest.mark.parametrize("line", GOOD_LINES)
def test_the_docs_scenario_lines_are_valid_for_parser_and_schema(line: object) -> None:
    parse_line(line)
    validator("scenario-line").validate(line)


@pytest.mark.parametrize("line", BAD_LINES)
def test_a_line_the_parser_refuses_the_schema_refuses(line: object) -> None:
    with pytest.raises(ValueError):
        parse_line(line)
    assert not validator("scenario-line").is_valid(line)


# -- configuration -------------------------------------------------------------------------------


def toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(), re.S)


def test_the_docs_complete_example_is_valid() -> None:
    example = toml_blocks(DOCS / "configuration.md")[0]
    validator("config").validate(tomllib.loads(example))


def test_the_test_daemons_config_is_valid(tmp_path: Path) -> None:
    path = write_config(tmp_path, "tcp://127.0.0.1:1883")
    parse_config(path.read_text())
    validator("config").validate(tomllib.loads(path.read_text()))


@pytest.mark.parametrize(
    "text",
    [
        "[mqtt]\nqos = 3",
        "[mqtt]\nqoss = 1",
        '[gateway]\nid = "xyz"',
        '[concentrator]\nregion = "XX1"',
        '[concentrator]\nboard = "nope"',
        '[spool]\nmax_bytes = "12 parsecs"',
        "[spool]\nmax_bytes = 10",
        '[[backend]]\nname = "a"\ntype = "semtech_udp"\nserver = "tcp://h:1"',
        '[[backend]]\nname = "a"\ntype = "semtech_udp"',
        '[[backend]]\nname = "a"\ntype = "carrier_pigeon"',
        "[mqtt.filters]\nforward_crc_bad = true\nforward_crc_invalid = true",
        '[mqtt.filters]\nnet_ids = ["0000"]',
        "[concentrator.channels]\nspreading_factors = [4]",
    ],
)
def test_a_config_the_loader_refuses_the_schema_refuses(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(text)
    assert not validator("config").is_valid(tomllib.loads(text))


def test_case_insensitive_keys_are_valid_in_both() -> None:
    text = '[gateway]\nid = "0016C001FF1E0001"\n[log]\nlevel = "debug"\n'
    text += '[concentrator]\nregion = "eu868"\n'
    parse_config(text)
    validator("config").validate(tomllib.loads(text))


# -- a running daemon ----------------------------------------------------------------------------


@pytest.mark.broker
def test_a_running_daemons_status_diag_and_spool_stats_are_valid(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, broker.url)
    with running_daemon(config) as document:
        validator("status").validate(document)
        diag = cli("diag", "-c", str(config), "--json", "--seconds", "1")
        report = json.loads(diag.stdout)
        validator("diag").validate(report)
        assert report["schema_version"] == 1 and report["checks"]
    stats = cli("spool", "stats", "-c", str(config), "--json")
    assert stats.returncode == 0, stats.stderr
    spool = json.loads(stats.stdout)
    validator("spool-stats").validate(spool)
    assert spool["spooled"] >= 1  # a real spool with real uplinks in its history


def test_documents_missing_or_misstating_a_declared_field_are_invalid() -> None:
    check = {"name": "config", "status": "pass", "detail": "ok", "hint": ""}
    report = {"schema_version": 1, "checks": [check], "summary": {}}
    assert not validator("diag").is_valid(report)  # summary counts missing
    summary = {"total": 1, "passed": 1, "warned": 0, "failed": 0}
    assert validator("diag").is_valid({**report, "summary": summary})
    wrong = {**report, "summary": summary, "checks": [{**check, "status": "ok"}]}
    assert not validator("diag").is_valid(wrong)
    assert not validator("status").is_valid({"version": "0.1.0", "gateway_id": None})
    assert not validator("spool-stats").is_valid({"pending": -1})


GPS = '[gps]\ntty = "sim://gps"\n'
UNPLUGGED = [{"at_ms": 300, "fault": "unplug", "duration_ms": 60_000}]


@pytest.mark.parametrize(
    ("scenario", "until"),
    [
        (None, lambda doc: doc["gps"].get("time_valid") is True),
        (UNPLUGGED, lambda doc: doc["radio"]["state"] in ("down", "restarting")),
    ],
    ids=["gps-locked", "radio-down"],
)
def test_the_status_document_is_valid_with_a_gps_lock_and_with_the_radio_down(
    tmp_path: Path, scenario: list[dict[str, object]] | None, until: object
) -> None:
    socket = tmp_path / "status.sock"
    with live_daemon(tmp_path, socket, scenario=scenario, extra=GPS, until=until) as supervisor:  # type: ignore[arg-type]
        document = json.loads(json.dumps(supervisor.document()))
    validator("status").validate(document)
    assert document["gps"]["enabled"] is True
