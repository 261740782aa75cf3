"""Make text that came from learner code (or a learner's file name) safe to show.

Everything a submission can influence -- printed output, exception messages, layer names, file
names that become student ids -- may carry terminal control sequences: colour codes, cursor moves
that erase the grader's own lines, window-title or clipboard (OSC 52) requests, bidi overrides
that reorder what an instructor reads. The grader shows such text only after ``printable()``.

This is the one place that knows what "control characters" are; renderers, the progress display,
the batch and the judges call it rather than keeping regexes of their own.

It is also the one place that knows about *lone surrogates* (U+D800..U+DFFF on their own): a
string learner code builds (``"accuracy\\udcff"``), a JSON escape such as ``"\\udcff"`` in a record
the sandbox, the evaluation process or a saved model wrote, or a file name that is not UTF-8
(Python keeps its bad bytes as surrogates). Such a string cannot be written as UTF-8, so every
record is cleaned with ``without_surrogates()`` where it is read, and the file writers
(``grader.atomic``) clean what they write: a grading never fails because of one character.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

_Value = TypeVar("_Value")

# One UTF-16 code unit of a surrogate pair, on its own or paired (the pairs are rejoined).
_SURROGATE = re.compile("[\ud800-\udfff]")

# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and other two-byte escapes.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, erase line/screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # the rest: a lone ESC or a two-byte escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls except tab and newline, DEL, C1 controls, and Unicode format characters that
# reorder or hide text: bidi embeddings/overrides/isolates, zero-width marks, line/paragraph
# separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: object, *, keep_newlines: bool = True, limit: int | None = None) -> str:
    """``text`` without escape sequences and control characters.

    Carriage returns become newlines (a progress bar's redraws stay readable); with
    ``keep_newlines=False`` (ids, names, one-line messages) newlines and tabs become spaces.
    ``limit`` cuts the result to that many characters, marking the cut with an ellipsis.
    """
    value = without_surrogates(text if isinstance(text, str) else str(text))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _ESCAPE_SEQUENCE.sub("", value)
    value = _CONTROL.sub("", value)
    if not keep_newlines:
        value = re.sub(r"[\n\t]+", " ", value)
    if limit is not None and len(value) > limit:
        value = value[: max(0, limit - 1)] + "…"
    return value


def spreadsheet_cell(text: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (cells starting ``= + - @``, tab or
    carriage return are formulas to Excel, LibreOffice and Google Sheets): such a cell gets a
    leading apostrophe, which spreadsheets show as plain text. Numbers are left as they are."""
    value = printable(text, keep_newlines=False)
    if value and value[0] in "=+-@\t\r":
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


# What ``escape_invisible`` writes as an escape: the controls ``printable`` removes, plus tab,
# newline and carriage return, plus lone surrogates.
_INVISIBLE = re.compile("[\t\n\r\ud800-\udfff]|" + _CONTROL.pattern)


def escape_invisible(text: str) -> str:
    """``text`` with every character ``printable`` would remove or change (controls, escape
    characters, tab and newline, bidi overrides, zero-width marks) and every lone surrogate
    written as a visible escape: ``"bob\\x1b"`` -> ``"bob-x1b"``, ``"bob\\u202e"`` ->
    ``"bob-u202e"``, a file name's byte that is not UTF-8 (``"bob\\udcff"``) -> ``"bob-xff"``.

    For names that become ids (``grader.batch.discover.safe_id``): unlike removing, escaping
    keeps a doctored name apart from the clean name it imitates.
    """
    return _INVISIBLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"-x{code - 0xDC00:02x}"
    return f"-x{code:02x}" if code < 0x100 else f"-u{code:04x}"


def without_surrogates(value: _Value) -> _Value:
    """``value`` with every lone surrogate replaced by U+FFFD (the replacement character, shown
    as �); a high and low surrogate that stand next to each other become the one character
    they encode. Strings are returned cleaned; lists and dicts (JSON as just parsed, keys too)
    are cleaned in place, however deep, and returned; anything else is returned unchanged.
    """
    if isinstance(value, str):
        return _clean(value)  # type: ignore[return-value]
    if not isinstance(value, (list, dict)):
        return value
    # An explicit stack rather than recursion: a record nested a thousand deep is no crash.
    pending: list[Any] = [value]
    seen: set[int] = set()  # a container met twice (or inside itself) is cleaned once
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = _clean(item)
                elif isinstance(item, (list, dict)):
                    pending.append(item)
            continue
        entries = list(node.items())
        if any(isinstance(key, str) and _SURROGATE.search(key) for key, _ in entries):
            node.clear()  # keys change: rebuild, keeping their order
            node.update((_clean(key) if isinstance(key, str) else key, item) for key, item in entries)
        for key, item in node.items():
            if isinstance(item, str):
                node[key] = _clean(item)
            elif isinstance(item, (list, dict)):
                pending.append(item)
    return value


def _clean(text: str) -> str:
    if not _SURROGATE.search(text):
        return text  # the usual case: no copy
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
