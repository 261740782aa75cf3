"""Make text that came from learner code (or a learner's file name) safe to show.

Everything a submission can influence -- printed output, exception messages, layer names, file
names that become student ids -- may carry terminal control sequences: colour codes, cursor moves
that erase the grader's own lines, window-title or clipboard (OSC 52) requests, bidi overrides
that reorder what an instructor reads. The grader shows such text only after ``printable()``.

This is the one place that knows what "control characters" are; renderers, the progress display,
the batch and the judges call it rather than keeping regexes of their own.
"""

from __future__ import annotations

import re

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
    value = text if isinstance(text, str) else str(text)
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
