"""The French guides mirror the English ones: same headings (levels), same code, same commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FR_DOCS = DOCS / "fr"

# English guides that must have a French counterpart (relative to ROOT); the replication guide
# joins the list as soon as it exists.
REQUIRED_ENGLISH = ["README.md", "docs/operator-guide.md", "docs/technician-guide.md"]
REQUIRED_ENGLISH += ["docs/shared-network.md", "docs/replication.md"]
ALWAYS_PRESENT = {"README.md", "docs/operator-guide.md", "docs/technician-guide.md"}
ALWAYS_PRESENT |= {"docs/shared-network.md"}

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})\s")
EDGE_AGENT_CODE = re.compile(r"`(edge-agent [^`]+)`")


def french_of(english: str) -> str:
    """Path (relative to ROOT) of the French counterpart of an English document."""
    if english == "README.md":
        return "README.fr.md"
    return "docs/fr/" + english.removeprefix("docs/")


def pairs() -> list[tuple[str, str]]:
    """Every (English, French) pair: required guides that exist, and every docs/fr/*.md."""
    found = [e for e in REQUIRED_ENGLISH if e in ALWAYS_PRESENT or (ROOT / e).exists()]
    for french in sorted(FR_DOCS.glob("*.md")):
        english = "docs/" + french.name
        if english not in found:
            found.append(english)
    return [(e, french_of(e)) for e in found]


def split(text: str) -> tuple[list[int], list[str], str]:
    """Heading levels, fenced blocks (verbatim) and the prose outside the fences."""
    levels: list[int] = []
    blocks: list[str] = []
    prose: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            heading = HEADING.match(lines[i])
            if heading:
                levels.append(len(heading.group(1)))
            prose.append(lines[i])
            i += 1
            continue
        marker = fence.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            j += 1
        blocks.append("".join(lines[i : j + 1]))
        i = j + 1
    return levels, blocks, "".join(prose)


def read_pair(english: str, french: str) -> tuple[str, str]:
    """Both texts; a missing English original or French translation fails."""
    english_path, french_path = ROOT / english, ROOT / french
    assert english_path.is_file(), f"{french} has no English original {english}"
    assert french_path.is_file(), f"{english} has no French version {french}"
    return english_path.read_text(encoding="utf-8"), french_path.read_text(encoding="utf-8")


PAIRS = pairs()
IDS = [e for e, _ in PAIRS]


def test_required_guides_are_paired() -> None:
    """Every guide that must be translated is in the list of pairs."""
    english = {e for e, _ in PAIRS}
    assert english >= ALWAYS_PRESENT
    if (DOCS / "replication.md").exists():
        assert "docs/replication.md" in english


@pytest.mark.parametrize(("english", "french"), PAIRS, ids=IDS)
def test_same_heading_levels(english: str, french: str) -> None:
    """One French heading per English heading, same order, same level."""
    en_text, fr_text = read_pair(english, french)
    assert split(fr_text)[0] == split(en_text)[0]


@pytest.mark.parametrize(("english", "french"), PAIRS, ids=IDS)
def test_same_code_blocks(english: str, french: str) -> None:
    """Every fenced block is byte-identical, in the same order."""
    en_text, fr_text = read_pair(english, french)
    en_blocks, fr_blocks = split(en_text)[1], split(fr_text)[1]
    assert len(fr_blocks) == len(en_blocks)
    for index, (en_block, fr_block) in enumerate(zip(en_blocks, fr_blocks, strict=True)):
        assert fr_block == en_block, f"block {index} of {french} differs from {english}"


@pytest.mark.parametrize(("english", "french"), PAIRS, ids=IDS)
def test_same_commands(english: str, french: str) -> None:
    """Every `edge-agent ...` command in the English prose appears in the French text."""
    en_text, fr_text = read_pair(english, french)
    commands = sorted({" ".join(c.split()) for c in EDGE_AGENT_CODE.findall(split(en_text)[2])})
    flat_fr = " ".join(fr_text.split())
    missing = [c for c in commands if c not in flat_fr]
    assert not missing, f"{french} lacks {missing}"


LINKED = [(e, f) for e, f in PAIRS if e in ALWAYS_PRESENT]


@pytest.mark.parametrize(("english", "french"), LINKED, ids=[e for e, _ in LINKED])
def test_guides_link_each_other(english: str, french: str) -> None:
    """The English guide links its French version near its top, and the French one links back."""
    en_text, fr_text = read_pair(english, french)
    assert Path(french).name in en_text[:400]
    assert Path(english).name in fr_text[:400]


def test_split_sees_headings_and_blocks() -> None:
    """The parser ignores '#' lines inside fences and keeps fences verbatim."""
    text = "# A\n\n```sh\n# not a heading\n```\n\n## B\n"
    levels, blocks, _ = split(text)
    assert levels == [1, 2]
    assert blocks == ["```sh\n# not a heading\n```\n"]
