"""``diag --lang``: the checks' details and hints in another language, English by default.

The checks write English (journald, support tickets). A catalogue (``i18n_fr.CATALOGUE``) maps a
stable message id to its English template and its translation; a result's text is recognised by
its English template, and the translation is rendered with the same values. A text no template
recognises stays in English, unchanged. Compound texts (parts joined with ``; ``, a
value that is itself a text the checks write) are translated part by part; a per-backend check's
result is put together again from each backend's translated result (``CheckResult.parts``).
The configuration loader's errors (``KEY: must be {allowed}, got {got}``) carry phrases of their
own ("an integer", "between 1 and 65535"): a small phrase table (``i18n_fr.PHRASES``) translates
those values only (``PHRASE_PARAMS``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from edge_agent.diag.core import CheckResult, combine, summary
from edge_agent.diag.core import summary_line as core_summary_line

LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
BACKEND_PREFIX = re.compile(r"([\w.-]{1,64}): (.+)", re.S)
#: placeholders that stand for a text the checks write themselves (translated part by part,
#: and counted by ``untranslated``); every other value is translated too when a template
#: recognises it (an error the project raises), else left as it is (a path, the system's error)
TEXT_PARAMS = frozenset(
    {"detail", "gw_id", "problem", "problems", "source", "gain", "gaps", "gap", "holds", "who"}
    | {"why", "when", "names", "backends", "allowed"}
)
#: placeholders of a configuration error (``must be {allowed}, got {got}``) whose value is a
#: phrase of the loader ("an integer", "between 1 and 65535"): translated by the phrase table
#: (``i18n_fr.PHRASES``) only, so that its short templates never match a check's text
PHRASE_PARAMS = frozenset({"allowed", "got"})
#: placeholders of a phrase that stand for identifiers (keys, choices), kept as they are
IDENTIFIER_PARAMS = frozenset({"choices", "schemes", "units"})


def _pattern(english: str) -> re.Pattern[str]:
    """A regex recognising the texts ``english`` renders to, one named group per placeholder."""
    out, seen, pos = [], set(), 0
    for match in PLACEHOLDER.finditer(english):
        out.append(re.escape(english[pos : match.start()]))
        name = match.group(1)
        # "; " separates the parts of a text: only a text of the checks' own spans it
        value = ".*?" if name in TEXT_PARAMS else "(?:(?!; ).)*?"
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>{value})")
        seen.add(name)
        pos = match.end()
    out.append(re.escape(english[pos:]))
    return re.compile("".join(out), re.S)


def literal_text(template: str) -> str:
    """The template without its placeholders."""
    return PLACEHOLDER.sub("", template)


def _compile(table: dict[str, tuple[str, str]]) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(id, pattern, translation), most specific first; templates with no words are skipped."""
    entries = [
        (msg_id, _pattern(english), translated)
        for msg_id, (english, translated) in table.items()
        if re.search(r"[A-Za-z]", literal_text(english))
    ]
    entries.sort(key=lambda e: -len(literal_text(table[e[0]][0])))
    return tuple(entries)


@cache
def _compiled(lang: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """The catalogue's (id, pattern, translation), most specific first."""
    from edge_agent.diag.i18n_fr import CATALOGUE

    return _compile(CATALOGUE) if lang == "fr" else ()


@cache
def _compiled_phrases(lang: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """The phrase table's (id, pattern, translation), most specific first."""
    from edge_agent.diag.i18n_fr import PHRASES

    return _compile(PHRASES) if lang == "fr" else ()


@cache
def _translations(lang: str) -> dict[str, str]:
    """Message id -> translated template."""
    return {msg_id: translated for msg_id, _pattern, translated in _compiled(lang)}


def _render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (no format spec)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def match(text: str, lang: str = "fr") -> tuple[str, dict[str, str]] | None:
    """(message id, values) of the template ``text`` was written from, or None."""
    for msg_id, pattern, _translated in _compiled(lang):
        found = pattern.fullmatch(text)
        if found:
            return msg_id, found.groupdict()
    return None


def _phrase(text: str, lang: str, missed: list[str]) -> str:
    """A phrase of a configuration error in ``lang`` (``an integer``, ``between 1 and 5``); one
    the phrase table does not know goes to ``missed`` unless it is pure data. The values of a
    recognised phrase are phrases too, or identifiers (``IDENTIFIER_PARAMS``)."""
    for _msg_id, pattern, translated in _compiled_phrases(lang):
        found = pattern.fullmatch(text)
        if found:
            values = {
                name: value if name in IDENTIFIER_PARAMS else _phrase(value, lang, missed)
                for name, value in found.groupdict().items()
            }
            return _render(translated, values)
    if not is_data(text):
        missed.append(text)
    return text


def _translate(text: str, lang: str, missed: list[str]) -> str:
    """``text`` in ``lang``; each part of it that no template recognises and that is not pure
    data goes to ``missed`` (values of a recognised text: only those of ``TEXT_PARAMS``).

    A text a template recognises is translated as a whole, else part by part (``; ``), else
    with its backend name (``name: …``); whichever leaves fewer parts in English."""
    if not text:
        return text
    found = match(text, lang)
    whole_missed: list[str] = []
    if found:
        msg_id, values = found
        for name, value in values.items():
            sink = whole_missed if name in TEXT_PARAMS else []
            if name in PHRASE_PARAMS:
                values[name] = _phrase(value, lang, sink)
            else:
                values[name] = _translate(value, lang, sink)
        whole = _render(_translations(lang)[msg_id], values)
        if not whole_missed:
            return whole
    if "; " in text:
        parts, parts_missed = text.split("; "), list[str]()
        translated = [_translate(part, lang, parts_missed) for part in parts]
        if translated != parts and (not found or len(parts_missed) < len(whole_missed)):
            missed += parts_missed
            return " ; ".join(translated)
    if found:
        missed += whole_missed
        return whole
    prefixed = BACKEND_PREFIX.fullmatch(text)
    if prefixed:
        rest_missed: list[str] = []
        rest = _translate(prefixed.group(2), lang, rest_missed)
        if rest != prefixed.group(2):
            missed += rest_missed
            return f"{prefixed.group(1)} : {rest}"
    if not is_data(text):
        missed.append(text)
    return text


def translate(text: str, lang: str) -> str:
    """``text`` in ``lang``; English (or unrecognised) text comes back unchanged."""
    if lang == "en":
        return text
    return _translate(text, lang, [])


def untranslated(text: str, lang: str = "fr") -> list[str]:
    """The parts of ``text`` that ``translate`` leaves in English: neither recognised by a
    template nor pure data (numbers, paths, URLs, identifiers)."""
    missed: list[str] = []
    _translate(text, lang, missed)
    return missed


#: a token that is data in any language: has a digit, a path or URL, an identifier, a unit
_DATA_TOKEN = re.compile(
    r"|.*[\d/_=<>*@].*|[A-Z][A-Z0-9_]*|0x[0-9a-f]+|[0-9a-f]{8,}"
    r"|MHz|kHz|dBm|dBi|dB|ms|s|µs|°C|KiB|MiB|Mo|MB|min|h|→|…|\.\.|[-–]|chmod|chown|&&"
)


def is_data(text: str) -> bool:
    """True when ``text`` has no word of any language: values, paths, identifiers, units."""
    return all(_DATA_TOKEN.fullmatch(token.strip("()[],;:'\"")) for token in text.split())


def localise(result: CheckResult, lang: str) -> CheckResult:
    """``result`` with its detail and hint in ``lang`` (status and name unchanged); a
    per-backend result is put together again from each backend's result in ``lang``."""
    if lang == "en":
        return result
    if result.parts:
        parts = [(n, localise(r, lang)) for n, r in result.parts]
        return combine(result.name, parts, (" : ", " ; ", " ; "))
    return replace(result, detail=translate(result.detail, lang), hint=translate(result.hint, lang))


def summary_line(results: Sequence[CheckResult], lang: str) -> str:
    """The report's last line in ``lang``: ``17 vérifications réussies, 2 avertissements,
    0 échec`` (French: singular for 0 and 1)."""
    s = summary(results)
    if lang != "fr":
        return core_summary_line(results)

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n < 2 else many}"

    return (
        f"{count(s['passed'], 'vérification réussie', 'vérifications réussies')}, "
        f"{count(s['warned'], 'avertissement', 'avertissements')}, "
        f"{count(s['failed'], 'échec', 'échecs')}"
    )
