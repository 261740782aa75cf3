"""Folders and records that learner code shaped: removed and read whatever their depth.

An outside tester's submissions built a folder tree 5,000 levels deep in the sandbox's working
folder (``shutil.rmtree`` then raised RecursionError after grading: "The grader itself failed",
no result, the scratch folder left on disk; in a batch the whole batch ended) and a list nested
3,000 levels deep in the model's compile config (``json.loads`` of the run's record raised
RecursionError). See grader/sandbox/scratch.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from test_sandbox import chapter_submission

from grader.evidence import RunInfo, SandboxEvidence
from grader.messages import use_language
from grader.sandbox import scratch
from grader.sandbox.runner import SandboxLimits, SandboxPlan, read_evidence
from grader.sandbox.scratch import (
    MAX_RECORD_DEPTH,
    RecordTooDeepError,
    load_record,
    record_depth,
    remove_tree,
    scratch_folder,
)
from grader.trusted.archive import ModelRefused, check_archive


def deep_tree(top: Path, levels: int) -> None:
    """``top/d/d/...`` ``levels`` deep, made as learner code makes it: relative to an open
    folder, so no path is ever longer than one name; a file at the bottom."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        bottom = os.open("bottom.bin", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(bottom, b"\1" * 4096)
        os.close(bottom)
    finally:
        os.close(fd)


def nested_list(levels: int) -> object:
    value: object = 1.0
    for _ in range(levels):
        value = [value]
    return value


def deep_json(levels: int, **fields: object) -> str:
    """JSON text of a dict whose "deep" field nests ``levels`` lists, written without recursion
    (``json.dumps`` would need a raised recursion limit, as the learner's process had)."""
    return json.dumps(fields)[:-1] + (", " if fields else "") + '"deep": ' + "[" * levels + "1" + "]" * levels + "}"


# --- removing a tree -----------------------------------------------------------------------------


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The descriptor walk must do the whole job itself: the ``rm`` fallback fails the test."""

    def fallback(target: Path, problems: list[str]) -> list[str]:
        raise AssertionError(f"the walk left {target}: {problems}")

    monkeypatch.setattr(scratch, "_remove_with_rm", fallback)


def test_a_tree_5000_levels_deep_is_removed_completely(tmp_path: Path, no_fallback: None) -> None:
    top = tmp_path / "scratch"
    deep_tree(top, 5000)
    assert remove_tree(top) == []
    assert not os.path.lexists(top)
    assert list(tmp_path.iterdir()) == []


def test_read_only_folders_odd_names_and_links_out_are_handled(tmp_path: Path, no_fallback: None) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("the grader's")
    outside_mode = stat.S_IMODE(outside.stat().st_mode)
    top = tmp_path / "scratch"
    (top / "ro" / "inner").mkdir(parents=True)
    (top / "ro" / "inner" / "f.txt").write_text("x")
    (top / "ro" / "file.txt").write_text("x")
    (top / "locked").mkdir()
    (top / "locked" / "f.txt").write_text("x")
    (top / "ro" / "link_to_outside").symlink_to(outside)
    (top / "link_to_file").symlink_to(outside / "keep.txt")
    (top / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(top / "fifo")
    os.mkdir(os.fsencode(top) + b"/odd \n\xff name")  # not UTF-8, with a newline
    (top / "-rf").write_text("x")
    os.chmod(top / "ro" / "inner", 0o555)
    os.chmod(top / "ro", 0o555)
    os.chmod(top / "locked", 0)
    try:
        assert remove_tree(top) == []
        assert not os.path.lexists(top)
        # The links were removed, never followed: what they pointed to is untouched.
        assert (outside / "keep.txt").read_text() == "the grader's"
        assert stat.S_IMODE(outside.stat().st_mode) == outside_mode
    finally:
        for folder in (top / "ro" / "inner", top / "ro", top / "locked"):
            if folder.exists():
                os.chmod(folder, 0o700)


def test_a_file_a_link_or_nothing_at_the_path_never_raises(tmp_path: Path, no_fallback: None) -> None:
    target = tmp_path / "target.txt"
    target.write_text("kept")
    link = tmp_path / "link"
    link.symlink_to(tmp_path)  # a link to a folder: the link goes, the folder stays
    assert remove_tree(link) == []
    assert not os.path.lexists(link) and target.read_text() == "kept"
    assert remove_tree(target) == [] and not target.exists()
    assert remove_tree(tmp_path / "missing") == []
    assert remove_tree(tmp_path / "missing" / "below") == []


def test_when_the_walk_fails_rm_removes_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_walk(target: Path, problems: list[str]) -> None:
        raise RecursionError("as shutil.rmtree did")

    monkeypatch.setattr(scratch, "_remove_tree_by_descriptor", broken_walk)
    top = tmp_path / "scratch"
    deep_tree(top, 1500)
    assert remove_tree(top) == []
    assert not os.path.lexists(top)


def test_scratch_folder_removes_a_deep_tree_on_leaving(tmp_path: Path) -> None:
    with scratch_folder("grade-test-", tmp_path) as folder:
        assert folder.parent == tmp_path and folder.name.startswith("grade-test-")
        deep_tree(folder / "work", 1500)
    assert list(tmp_path.iterdir()) == []


# --- reading a record ----------------------------------------------------------------------------


def test_a_record_nested_too_deep_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(RecordTooDeepError, match=r"evidence\.json nests lists or dictionaries more than 100"):
        load_record(deep_json(3000, seed=1), file="evidence.json")
    # Deep enough for json.loads to parse but not for what walks it later: refused as well.
    with pytest.raises(ValueError):
        load_record(deep_json(MAX_RECORD_DEPTH + 1), file="evidence.json")
    assert load_record(deep_json(MAX_RECORD_DEPTH - 1), file="x.json")["deep"] is not None
    # Brackets inside strings (with escaped quotes) nest nothing.
    assert load_record('{"a": "[[[[\\"[[[[{{{{", "b": [[1]]}', file="x.json") == {"a": '[[[["[[[[{{{{', "b": [[1]]}
    assert record_depth('{"a": "[[[[\\"[[[[", "b": [[1]]}') == 3
    # Invalid JSON is still the parser's ValueError; an unterminated string is read in linear time.
    started = time.monotonic()
    with pytest.raises(ValueError):
        load_record(b'"' + b'\\"' * 1_000_000, file="x.json")
    assert time.monotonic() - started < 5


def test_evidence_nested_3000_deep_is_an_unreadable_record(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    path.write_text(deep_json(3000, submission="solution.py", seed=1), encoding="utf-8")
    plan = SandboxPlan(submission=tmp_path / "solution.py", functions={}, seed=1)
    evidence = read_evidence(path, plan, RunInfo(returncode=0), SandboxLimits())
    step = evidence.steps["import"]
    assert list(evidence.steps) == ["import"] and step.status == "exception"
    assert step.exception is not None and step.exception.code == "record_unreadable"
    assert "evidence.json nests lists or dictionaries more than 100 levels deep" in step.exception.message
    assert "nested hundreds of levels deep" in step.exception.hint
    with use_language("zh"):
        evidence = read_evidence(path, plan, RunInfo(returncode=0), SandboxLimits())
    assert "嵌套超过了 100 层" in evidence.steps["import"].exception.message  # type: ignore[union-attr]
    # The pipeline's second look at the record (validation against the raw JSON) survives it too.
    from grader.pipeline import check_sandbox_evidence

    check_sandbox_evidence(SandboxEvidence(submission="solution.py", seed=1), plan, path, "process")


def test_a_saved_model_whose_config_nests_3000_deep_is_refused(tmp_path: Path) -> None:
    model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": []}}
    for levels in (3000, 900):  # past json.loads's limit, and within it but past the grader's
        path = tmp_path / f"deep{levels}.keras"
        text = json.dumps(model)[:-1] + ', "compile_config": {"loss_weights": ' + "[" * levels + "1" + "]" * levels
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("config.json", text + "}}")
        with pytest.raises(ModelRefused, match=r"config\.json nests lists or dictionaries more than 100 levels deep"):
            check_archive(path, max_params=None)


def test_a_real_functional_config_is_far_within_the_depth_limit() -> None:
    from test_trusted import chapter_config, functional_config

    for config in (chapter_config(), functional_config(applications=3)):
        assert record_depth(json.dumps(config)) < MAX_RECORD_DEPTH // 4


# --- end to end ----------------------------------------------------------------------------------

# train() builds 3,000 levels of d/d/d/... in the working folder, relative to an open folder,
# then trains the chapter's model as usual.
DEEP_FOLDER_TRAIN = """\
    import os
    fd = os.open(".", os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
"""


def test_a_run_that_leaves_a_3000_level_tree_is_graded_and_cleaned_up(tiny_data_dir: Path, tmp_path: Path) -> None:
    path = chapter_submission(tmp_path, train_body=DEEP_FOLDER_TRAIN)
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    result_path = tmp_path / "result.json"
    env = {**os.environ, "TMPDIR": str(scratch_parent)}
    argv = [sys.executable, "-m", "grader", "fashion_mnist", str(path), "--quiet", "--no-report"]
    argv += ["--json", str(result_path)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode in (0, 1), output
    assert "The grader itself failed" not in output and "Traceback" not in output, output
    result = json.loads(result_path.read_text(encoding="utf-8"))
    assert result["exercise"] == "fashion_mnist"
    assert result["metrics"]["epochs"] == 30  # graded as usual: the tree changes nothing
    assert list(scratch_parent.iterdir()) == [], sorted(p.name for p in scratch_parent.iterdir())
