"""``%load_ext grader`` and ``%grade`` (``grader.notebook_magic``).

Unit tests (milliseconds): which code is graded, the HTML, the datasets message. Then, for real:
a notebook that loads the extension, defines a solution and calls ``%grade`` (quick, then full)
is executed cell by cell in a real Jupyter kernel (nbclient + ipykernel) on the tiny synthetic
datasets, and the test reads what the notebook displayed. TensorFlow starts in the kernel (when
the learner's cell imports it) and in each grading's sandbox and trusted process: 2 min 50 s
measured while the machine was heavily loaded (load average about 15 on 2 cores).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from test_quick import FASHION_SOURCE, variant

from grader import notebook_magic
from grader.notebook_magic import (
    GradeOutcome,
    NotebookSource,
    find_saved_notebook,
    history_cells,
    missing_data_message,
    outcome_html,
)


def test_history_cells_leave_out_the_graders_own_lines() -> None:
    raw = [
        "",
        "%load_ext grader",
        "import numpy as np\nx = 1",
        "%grade fashion_mnist --quick",
        "y = 2\n%grade fashion_mnist",
    ]
    assert history_cells(raw) == ["import numpy as np\nx = 1", "y = 2"]


def test_saved_notebook_from_vscode_or_jupyter_server(tmp_path: Path) -> None:
    notebook = tmp_path / "chapter5.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    assert find_saved_notebook({"__vsc_ipynb_file__": str(notebook)}, {}, tmp_path) == notebook.resolve()
    # Jupyter Server: a path relative to its root, which may be above the kernel's folder.
    assert find_saved_notebook({}, {"JPY_SESSION_NAME": "course/week5/chapter5.ipynb"}, tmp_path) == notebook.resolve()
    assert find_saved_notebook({}, {"JPY_SESSION_NAME": "missing.ipynb"}, tmp_path) is None
    assert find_saved_notebook({}, {}, tmp_path) is None


def test_outcome_html_shows_checks_hints_and_escapes_learner_text(tmp_path: Path) -> None:
    result = {
        "exercise": "fashion_mnist", "mode": "quick", "passed": None, "score": 55, "max_score": 100, "style": "module",
        "isolation": "bwrap", "elapsed_s": 4.2,
        "checks": [
            {"id": "model_built", "name": "build_model() returns a Keras model", "status": "error", "score": 0, "max_score": 5,
             "message": "raised ValueError: <script>alert(1)</script>\x1b[2J", "hint": 'write activation="softmax"'},
            {"id": "test_accuracy", "name": "Test accuracy", "status": "skipped", "score": 0, "max_score": 30,
             "message": "Not measured in quick mode", "hint": ""},
        ],
        "details": {"errors": [{"traceback": "Traceback (your code only):\n  line 3"}]},
    }  # fmt: skip
    (tmp_path / "report.html").write_text("<html></html>", encoding="utf-8")
    page = outcome_html(
        GradeOutcome(3, result, ""), NotebookSource(tmp_path / "n.ipynb", "the 3 cells executed so far"), tmp_path
    )
    assert "PREVIEW" in page and "build_model() returns a Keras model" in page and "Hint:" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x1b" not in page
    assert "Your code raised" in page and "Open the full report" in page and "the 3 cells executed so far" in page


def test_not_graded_says_why() -> None:
    page = outcome_html(
        GradeOutcome(2, None, "Submission file not found: x.ipynb"),
        NotebookSource(Path("x.ipynb"), "x.ipynb"),
        Path("/nonexistent"),
    )
    assert "Not graded" in page and "Submission file not found" in page


def test_missing_datasets_get_a_one_line_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.datasets

    monkeypatch.setattr(grader.datasets, "dataset_status", lambda data_dir=None: [
        {"name": "fashion_mnist", "found": False, "reason": "Fashion-MNIST was not found."}, {"name": "mnist", "found": True}])  # fmt: skip
    page = missing_data_message("fashion_mnist", None)
    assert page is not None and notebook_magic.DATA_COMMAND in page and "%grade fashion_mnist" in page
    assert missing_data_message("exercise4", None) is None  # mnist is there


def test_grade_in_a_real_kernel(tiny_data_dir: Path, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "%load_ext grader",
        "import sys\nprint('heavy modules:', sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))",
        textwrap.dedent(variant(('Dense(10, activation="softmax")', 'Dense(10, activation="sigmoid")'))),
        "%grade fashion_mnist --quick",
        textwrap.dedent(FASHION_SOURCE.split("def train")[0]),  # build_model() fixed: softmax again
        "%grade fashion_mnist",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    env_before = dict(os.environ)
    client.execute()
    assert dict(os.environ) == env_before

    def html_of(index: int) -> str:
        outputs = notebook.cells[index].outputs
        pages = [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]
        assert pages, outputs
        return pages[-1]

    printed = "".join(o.get("text", "") for o in notebook.cells[1].outputs)
    assert "heavy modules: []" in printed  # %load_ext grader imported no TensorFlow

    quick = html_of(3)
    assert "PREVIEW" in quick and "Output layer: 10 units, softmax" in quick and "sigmoid" in quick
    assert "Hint:" in quick and "Not measured in quick mode" in quick
    assert "cells executed so far" in quick and "Grading…" not in quick

    full = html_of(5)
    assert ("PASSED" in full) and "Test accuracy" in full and "Open the full report" in full
    # The second grading saw the fixed build_model(): the history runs in order, so it wins.
    assert "The output layer is Dense(10, softmax)" in full, full
    assert (tmp_path / "grade-reports" / "fashion_mnist" / "report.html").is_file()
