"""``diag --lang fr``: every message a check can write has a French form, and the CLI prints it.

The coverage test reads the diag modules' source: each literal or f-string passed as a detail or
hint to ``passed``/``warned``/``failed``, assigned to a ``*hint*``, ``*detail*``, ``*source*``
(…) name, appended to a list or returned by a function must have a catalogue entry with the
same shape (text outside placeholders). Texts made elsewhere (the loader's errors, FileProblem,
rxstats.describe) are met by tests/ops/test_diag_lang_fr_states.py on real checks.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from edge_agent.diag.i18n import PLACEHOLDER, is_data, literal_text, match, translate
from edge_agent.diag.i18n_fr import CATALOGUE

DIAG = Path(__file__).resolve().parents[2] / "edge_agent" / "diag"
RESULT_FUNCS = ("passed", "warned", "failed")


def _templates(node: ast.expr) -> list[str]:
    """The template(s) ``node`` renders to: ``{}`` for each interpolated value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        outs = [""]
        for value in node.values:
            if isinstance(value, ast.Constant):
                outs = [o + str(value.value) for o in outs]
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.IfExp):
                # f"{'a' if x else 'b'}": both texts (else a value)
                texts = _templates(value.value) or ["{}"]
                outs = [o + t for o in outs for t in texts]
            else:
                outs = [o + "{}" for o in outs]
        return outs
    if isinstance(node, ast.IfExp):
        return _templates(node.body) + _templates(node.orelse)
    return []


def source_messages() -> dict[str, str]:
    """Shape -> ``module:line`` of every message text the diag modules write literally."""
    found: dict[str, str] = {}
    for path in sorted(DIAG.glob("*.py")):
        if path.stem.startswith("i18n"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            candidates: list[ast.expr] = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in RESULT_FUNCS:
                candidates = list(node.args[1:3])
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and re.search(
                    "hint|renew|detail|source|holds|who|why|when|reason", target.id, re.I
                ):
                    candidates = [node.value]
            elif isinstance(node, ast.FunctionDef):
                # any text a function returns, e.g. gpiod_problem's (its callers put it in a
                # detail); a returned tuple's text items too
                values = [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value]
                candidates = [
                    e for v in values for e in (v.elts if isinstance(v, ast.Tuple) else [v])
                ]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "append":
                candidates = list(node.args)  # a list of problems joined into a detail
            for candidate in candidates:
                for text in _templates(candidate):
                    if text:
                        found.setdefault(shape(text), f"{path.stem}:{candidate.lineno}")
    return found


def _render(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def shape(template: str) -> str:
    """The template with every placeholder written ``{}``."""
    return PLACEHOLDER.sub("{}", template)


#: texts the checks write that the catalogue does not translate, and what does
MADE_ELSEWHERE = {
    "{} passed, {} warnings, {} failed": "i18n.summary_line (French plurals)",
}


def test_every_message_the_checks_write_has_a_french_entry() -> None:
    catalogue_shapes = {shape(english) for english, _ in CATALOGUE.values()}

    def covered(text: str) -> bool:
        """An entry has its shape, or every ``; `` part of it has one, or it is data."""
        text = text.removeprefix("; ").removesuffix("; ")
        if text in catalogue_shapes or is_data(literal_text(text.replace("{}", ""))):
            return True
        return "; " in text and all(covered(part) for part in text.split("; "))

    messages = source_messages()
    assert len(messages) > 120
    missing = {
        text: where
        for text, where in messages.items()
        if not covered(text) and text not in MADE_ELSEWHERE
    }
    assert not missing, f"no French form for: {missing}"


@pytest.mark.parametrize("msg_id", sorted(CATALOGUE))
def test_entry_has_the_same_placeholders_and_round_trips(msg_id: str) -> None:
    english, french = CATALOGUE[msg_id]
    assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", msg_id)
    assert Counter(PLACEHOLDER.findall(english)) == Counter(PLACEHOLDER.findall(french))
    if not re.search("[A-Za-z]", literal_text(english)):
        return  # only values and punctuation: nothing to recognise, left as written
    values = {name: f"v{i}x" for i, name in enumerate(dict.fromkeys(PLACEHOLDER.findall(english)))}
    text = _render(english, values)
    found = match(text)
    assert found is not None
    found_id, found_values = found
    if found_id != msg_id:  # a more specific template of the same shape, e.g. busy: {exc}
        assert _render(CATALOGUE[found_id][0], found_values) == text
        values = found_values
    assert translate(text, "fr") == _render(CATALOGUE[found_id][1], values)
    assert translate(text, "en") == text


def test_compound_texts_are_translated_part_by_part() -> None:
    text = "metro: no client certificate configured (password or anonymous)"
    assert translate(text, "fr") == (
        "metro : aucun certificat client configuré (mot de passe ou connexion anonyme)"
    )
    assert translate("something no check writes", "fr") == "something no check writes"


def _diag(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "diag", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def sim_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[concentrator]
url = "sim://"
region = "EU868"

[mqtt]
server = "tcp://127.0.0.1:1"

[spool]
path = "{tmp_path}/spool.db"

[status]
socket = "{tmp_path}/status.sock"
"""
    )
    return config


CHECKS = ("config", "device", "gpio", "firmware", "gps", "spool", "client-cert", "broker-tls")


def test_diag_lang_fr_json_and_text_on_the_simulator(sim_config: Path) -> None:
    english = _diag(sim_config, "--json", *CHECKS)
    french = _diag(sim_config, "--json", "--lang", "fr", *CHECKS)
    assert english.returncode == french.returncode == 0, french.stderr
    en = {c["name"]: c for c in json.loads(english.stdout)["checks"]}
    fr = {c["name"]: c for c in json.loads(french.stdout)["checks"]}
    assert en["gps"]["hint"] == "start it"
    assert fr["gps"]["detail"] == (
        "aucun démon ne répond : les informations GPS viennent du démon en service"
    )
    assert fr["gps"]["hint"] == "démarrez-le"
    assert fr["device"]["detail"] == "concentrateur simulé (sim://) : aucun périphérique nécessaire"
    assert "passerelle EUI lue sur la puce, EU868, concentrateur sim://" in fr["config"]["detail"]
    assert fr["spool"]["detail"].endswith(
        "pas encore créé (le démon le crée à son premier démarrage)"
    )
    assert [c["status"] for c in en.values()] == [c["status"] for c in fr.values()]
    text = _diag(sim_config, "--lang", "fr", "gps")
    assert "→ démarrez-le" in text.stdout
    assert _diag(sim_config, "--lang", "en", "--json", *CHECKS).stdout == english.stdout


def test_unknown_language_is_a_usage_error(sim_config: Path) -> None:
    done = _diag(sim_config, "--lang", "de")
    assert done.returncode == 2
    assert "--lang" in done.stderr
