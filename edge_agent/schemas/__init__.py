"""The published data models: JSON Schemas (draft 2020-12) generated from the code's declarations.

Each document has a name, a version (in its ``$id`` and file name) and a builder that reads
the declaration the code itself uses: the configuration's dataclasses
(``edge_agent.schemas.config``), the scenario line shapes (``drivers.sim.scenario.LINE_SHAPES``)
and the ``TypedDict`` models of the status, diag and spool documents (``edge_agent.models``).
The generated files ship in this package (``data/``) and in ``docs/schemas/``; regenerate them
with ``python -m edge_agent.schemas --out docs/schemas`` (or ``edge-agent schemas``), check them
with ``--check``. docs/data-model.md explains them.

Versions: a document's version changes when a field is removed or changes meaning; adding a
field keeps it (consumers ignore what they do not know).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:edge-agent:schema"


@dataclass(frozen=True, slots=True)
class Published:
    """One published document: its file stem, version, title and builder."""

    name: str
    version: int
    title: str
    build: Callable[[], tuple[dict[str, Any], dict[str, Any]]]

    @property
    def filename(self) -> str:
        """``config.v1.schema.json``."""
        return f"{self.name}.v{self.version}.schema.json"

    @property
    def schema_id(self) -> str:
        """``urn:edge-agent:schema:config:v1``."""
        return f"{ID_PREFIX}:{self.name}:v{self.version}"


def _config() -> tuple[dict[str, Any], dict[str, Any]]:
    from edge_agent.schemas.config import config_schema

    return config_schema()


def _scenario() -> tuple[dict[str, Any], dict[str, Any]]:
    from edge_agent.schemas.scenario import scenario_line_schema

    return scenario_line_schema()


def _typed(module: str, name: str) -> Callable[[], tuple[dict[str, Any], dict[str, Any]]]:
    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        import importlib

        from edge_agent.schemas.typed import document_schema

        return document_schema(getattr(importlib.import_module(module), name))

    return build


PUBLISHED: tuple[Published, ...] = (
    Published("config", 1, "edge-agent configuration (config.toml)", _config),
    Published("scenario-line", 1, "edge-agent simulator scenario line (JSONL)", _scenario),
    Published(
        "status",
        1,
        "edge-agent status --json",
        _typed("edge_agent.models.status", "StatusDocument"),
    ),
    Published("diag", 1, "edge-agent diag --json", _typed("edge_agent.models.diag", "DiagReport")),
    Published(
        "spool-stats",
        1,
        "edge-agent spool stats --json",
        _typed("edge_agent.models.spool", "SpoolFileStats"),
    ),
)


def schema(name: str) -> dict[str, Any]:
    """The generated schema of the published document ``name`` (``config``, ``status``...)."""
    for doc in PUBLISHED:
        if doc.name == name:
            root, defs = doc.build()
            out: dict[str, Any] = {"$schema": DRAFT, "$id": doc.schema_id, "title": doc.title}
            out.update(root)
            if defs:
                out["$defs"] = dict(sorted(defs.items()))
            return out
    raise KeyError(f"no published schema {name!r}; known: {', '.join(d.name for d in PUBLISHED)}")


def render(name: str) -> str:
    """The schema as the file holds it: indented JSON, one trailing newline."""
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """Every published schema: file name -> text."""
    return {doc.filename: render(doc.name) for doc in PUBLISHED}


def write(out_dir: str | Path) -> list[Path]:
    """Write every schema into ``out_dir`` (created); returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, text in generate().items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale(out_dir: str | Path) -> list[str]:
    """File names in ``out_dir`` that differ from what the code generates (or are missing),
    and ``*.schema.json`` files there that the code no longer generates."""
    out = Path(out_dir)
    expected = generate()
    wrong = [
        name
        for name, text in expected.items()
        if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in out.glob("*.schema.json") if p.name not in expected)
    return wrong + extra


def shipped(name: str) -> dict[str, Any]:
    """The schema of ``name`` as shipped in the installed package (``edge_agent/schemas/data``)."""
    for doc in PUBLISHED:
        if doc.name == name:
            text = resources.files(__package__).joinpath("data", doc.filename).read_text("utf-8")
            loaded: dict[str, Any] = json.loads(text)
            return loaded
    raise KeyError(f"no published schema {name!r}")
