"""The real-world corpus (``tests/realworld/``): code written the way learners write it, graded
through the CLI on the real datasets, each against the verdict an instructor would sign.

``tests/realworld/manifest.toml`` lists every file with its exercise, the style the grader must
recognise, the verdict, exactly which checks fail, and words the first failing check's message or
hint must contain (its header says what each key checks). Every case is one test, so a case can
be run alone (``-k fm_hand_sizes``) and the corpus split between workers. Saved models are not
committed: the ``realworld_saved_model`` fixture (tests/conftest.py) trains and saves each one
with the installed Keras, from the maker scripts in ``tests/realworld/makers/``.

The files keep the learner's own number of epochs; most train briefly (1-3 epochs of MNIST), the
cases the manifest calls ``slow`` train Fashion-MNIST for 4-6 epochs or a CNN. Every case is in
the ``slow`` lane (``SLOW_TESTS`` in tests/conftest.py): ``make test-slow``, or ``pytest
tests/test_realworld.py -k ex4_`` for the MNIST half. Each case writes only into its own
``tmp_path`` (the result, the report, the grader's working folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "realworld"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
DEFAULTS: dict[str, Any] = MANIFEST["defaults"]
CASES: list[dict[str, Any]] = MANIFEST["cases"]
STYLES = {"module", "certificate", "script", "notebook", "saved_model"}
FAILING = ("failed", "error")  # a check that "fails"; passed and skipped do not
# Quote marks an instructor's words may be written with: 'acc', "acc", `acc`, ‘acc’ match alike.
QUOTES = re.compile('["`\u2018\u2019\u201c\u201d]')


def check_ids(exercise: str) -> list[str]:
    spec = tomllib.loads((ROOT / "exercises" / exercise / "exercise.toml").read_text(encoding="utf-8"))
    return [check["id"] for check in spec["checks"]]


def comparable(text: str) -> str:
    return QUOTES.sub("'", text).casefold()


def test_the_manifest_covers_the_realworld_corpus() -> None:
    on_disk = {path.name for path in CORPUS.iterdir() if path.is_file() and path.name != "manifest.toml"}
    listed = [case["file"] for case in CASES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert on_disk == {case["file"] for case in CASES if "made_by" not in case}
    makers = {path.name for path in (CORPUS / "makers").iterdir() if path.suffix == ".py"}
    assert makers == {Path(case["made_by"]).name for case in CASES if "made_by" in case}
    assert len(CASES) >= 30
    for case in CASES:
        ids = check_ids(case["exercise"])
        assert case["style"] in STYLES, case["file"]
        assert isinstance(case["passed"], bool), case["file"]
        assert set(case["fails"]) <= set(ids), (case["file"], set(case["fails"]) - set(ids))
        # A case that fails a check says what the learner must read about it.
        assert bool(case["fails"]) == bool(case.get("hint_contains")), case["file"]
        assert ("made_by" in case) == (case["style"] == "saved_model"), case["file"]


def test_the_notebooks_are_real_notebooks() -> None:
    import nbformat

    notebooks = sorted(CORPUS.glob("*.ipynb"))
    assert len(notebooks) >= 4
    for path in notebooks:
        nbformat.validate(nbformat.read(str(path), as_version=4))


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.slow] if case.get("slow") else []
    return pytest.param(case, id=case["file"], marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_realworld_case(
    case: dict[str, Any], tmp_path: Path, realworld_saved_model: Callable[[Path, str], Path]
) -> None:
    if "made_by" in case:
        submission = realworld_saved_model(CORPUS / case["made_by"], case["file"])
    else:
        submission = CORPUS / case["file"]
    result_path, report_dir = tmp_path / "result.json", tmp_path / "report"
    timeout = int(case.get("timeout", DEFAULTS["timeout"]))
    argv = [
        sys.executable, "-m", "grader", case["exercise"], str(submission), "--timeout", str(timeout),
        "--json", str(result_path), "--report", str(report_dir), "--quiet",
    ]  # fmt: skip
    # The real datasets, found where `grade data status` finds them; never a download.
    env = {key: value for key, value in os.environ.items() if key not in ("GRADER_DATA_DIR",)}
    env["GRADER_OFFLINE"] = "1"
    started = time.time()
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout + 300)
    output = done.stdout + done.stderr
    assert done.returncode != 2, f"the grader could not grade a learner's file:\n{output[-3000:]}"
    assert "Traceback (most recent call last)" not in output, output[-3000:]
    assert "The grader itself failed" not in output, output[-3000:]
    result = json.loads(result_path.read_text(encoding="utf-8"))
    summary = _summary(result)

    assert result["style"] == case["style"], summary
    assert result["passed"] == case["passed"], summary
    assert done.returncode == (0 if case["passed"] else 1), summary
    failing = [check for check in result["checks"] if check["status"] in FAILING]
    assert sorted(check["id"] for check in failing) == sorted(case["fails"]), summary

    if failing:
        first = failing[0]
        shown = comparable(f"{first['message']}\n{first['hint']}")
        missing = [word for word in case.get("hint_contains", []) if comparable(word) not in shown]
        assert not missing, f"the first failing check does not say {missing}\n{summary}"
    everything = comparable("\n".join(f"{c['message']}\n{c['hint']}" for c in result["checks"]))
    unfit = [word for word in case.get("absent", []) if comparable(word) in everything]
    assert not unfit, f"a message says {unfit}, which does not fit this file\n{summary}"
    for word in case.get("stdout_contains", []):
        assert word in done.stdout, f"the terminal does not show {word!r}:\n{done.stdout[-3000:]}"
    # The learner opens the report of this submission, never a stale one.
    report = report_dir / "report.html"
    assert report.is_file() and report.stat().st_mtime >= started, f"no report was written\n{output[-2000:]}"


def _summary(result: dict[str, Any]) -> str:
    """One line for the verdict, one per check that did not pass: what a failing case reports."""
    failing = [c for c in result["checks"] if c["status"] != "passed"]
    lines = [
        f"actual: style {result['style']}, passed {result['passed']}, score {result['score']}/{result['max_score']}, "
        f"test accuracy {result.get('metrics', {}).get('test_accuracy')}, "
        f"not passed: {[c['id'] + ':' + c['status'] for c in failing]}"
    ]
    lines += [
        f"  {c['id']}: {c['status']} {c['score']}/{c['max_score']}: {c['message']} | {c['hint']}" for c in failing
    ]
    return "\n".join(lines)
