"""``diag --lang``: the checks' details and hints in another language, English by default.

The checks write English (journald, support tickets). A catalogue (``i18n_fr.CATALOGUE``) maps a
stable message id to its English template and its translation; a result's text is recognised by
its English template, and the translation is rendered with the same values. A text no template
recognises stays in English, unchanged. Compound texts (``name: detail`` per backend, parts joined
with ``; ``) are translated part by part.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

from edge_agent.diag.core import CheckResult

LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
BACKEND_PREFIX = re.compile(r"([\w.-]{1,64}): (.+)", re.S)
RECURSIVE_PARAMS = ("detail", "gw_id")


def _pattern(english: str) -> re.Pattern[str]:
    """A regex recognising the texts ``english`` renders to, one named group per placeholder."""
    out, seen, pos = [], set(), 0
    for match in PLACEHOLDER.finditer(english):
        out.append(re.escape(english[pos : match.start()]))
        name = match.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        pos = match.end()
    out.append(re.escape(english[pos:]))
    return re.compile("".join(out), re.S)


def literal_text(template: str) -> str:
    """The template without its placeholders."""
    return PLACEHOLDER.sub("", template)


@cache
def _compiled(lang: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(id, pattern, translation), most specific first; templates with no words are skipped."""
    from edge_agent.diag.i18n_fr import CATALOGUE

    if lang != "fr":
        return ()
    entries = [
        (msg_id, _pattern(english), translated)
        for msg_id, (english, translated) in CATALOGUE.items()
        if re.search(r"[A-Za-z]", literal_text(english))
    ]
    entries.sort(key=lambda e: -len(literal_text(CATALOGUE[e[0]][0])))
    return tuple(entries)


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


def translate(text: str, lang: str) -> str:
    """``text`` in ``lang``; English (or unrecognised) text comes back unchanged."""
    if lang == "en" or not text:
        return text
    found = match(text, lang)
    if found:
        msg_id, values = found
        for name in RECURSIVE_PARAMS:
            if name in values:
                values[name] = translate(values[name], lang)
        return _render(_translations(lang)[msg_id], values)
    if "; " in text:
        parts = text.split("; ")
        translated_parts = [translate(part, lang) for part in parts]
        if translated_parts != parts:
            return " ; ".join(translated_parts)
    prefixed = BACKEND_PREFIX.fullmatch(text)
    if prefixed:
        rest = translate(prefixed.group(2), lang)
        if rest != prefixed.group(2):
            return f"{prefixed.group(1)} : {rest}"
    return text


def localise(result: CheckResult, lang: str) -> CheckResult:
    """``result`` with its detail and hint in ``lang`` (status and name unchanged)."""
    if lang == "en":
        return result
    return replace(result, detail=translate(result.detail, lang), hint=translate(result.hint, lang))
