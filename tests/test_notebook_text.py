"""Notebook cells whose text no UTF-8 parser accepts (lone surrogates, valid in JSON) are read
as the learner's code, never as a grader crash: found by an outside tester, where a cell
`x = "\ud800"` (or the same in a magic or shell line) made `grade` exit 2 with a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.adapters import read_notebook


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s}
             for s in sources]  # fmt: skip
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    # ensure_ascii keeps the lone surrogate as the JSON escape \ud800, as a notebook carries it.
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "source, expected_code, expected_note",
    [
        ('x = "\ud800"\n', 'x = "\\ud800"\n', None),
        ("%matplotlib inline \ud83d\n", "pass\n", "%matplotlib inline \\ud83d"),
        ("!pip install \udc80\nx = 1\n", "pass\nx = 1\n", "!pip install \\udc80"),
    ],
)
def test_lone_surrogates_become_escapes(
    tmp_path: Path, source: str, expected_code: str, expected_note: str | None
) -> None:
    cells, notes = read_notebook(write_notebook(tmp_path / "n.ipynb", source))
    assert cells[0].source == expected_code
    cells[0].source.encode("utf-8")  # no UnicodeEncodeError left for the parser or a terminal
    compile(cells[0].source, "cell", "exec")
    if expected_note:
        assert any(expected_note in note for note in notes)
        for note in notes:
            note.encode("utf-8")
