"""Text no UTF-8 file can hold, and file names chosen to imitate another student's.

Learner code can put a lone surrogate ("accuracy\\udcff") into a compile config, a History key or
an exception message; a JSON escape "\\udcff" in a record the sandbox, the evaluation process or a
saved model wrote decodes to one; a file name that is not UTF-8 reaches Python as one. None of
them may end a grading with a traceback (exit 2) or poison the batch's cache. And a file name
whose control characters the grader must remove must not take, or block, another student's id.

Pure unit tests: no TensorFlow, no grading; the batch writers get synthetic records.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.atomic import write_atomically, write_json_atomically
from grader.batch import cache
from grader.batch.discover import ID_LIMIT, Student, discover_students, safe_id
from grader.batch.export import write_exports
from grader.batch.gradebook import write_gradebook
from grader.batch.records import StudentRecord
from grader.batch.summary import write_summary
from grader.evidence import SandboxEvidence, from_json, to_json, validate_sandbox_evidence
from grader.result import CheckResult, GradeResult
from grader.safe_text import escape_invisible, printable, spreadsheet_cell, without_surrogates
from grader.spec import load_exercise
from grader.trusted.archive import check_archive
from grader.trusted.protocol import EvaluationError, ModelMeasured, read_answer

LONE = "\udcff"  # what Python makes of the byte 0xff in a file name, or of the JSON escape "\udcff"


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def strictly_utf8(path: Path) -> str:
    """The file's text; fails the test unless it is valid UTF-8 without a surrogate escape."""
    text = path.read_bytes().decode("utf-8")  # strict: raises on anything that is not UTF-8
    assert "\\udc" not in text.lower() and not has_surrogate(text)
    return text


# --- the helper: grader.safe_text ---------------------------------------------------------------


def test_lone_surrogates_become_the_replacement_character() -> None:
    assert without_surrogates(f"accuracy{LONE}") == "accuracy\ufffd"
    assert without_surrogates("\ud800x\udfff") == "\ufffdx\ufffd"
    assert without_surrogates("\ud83d\ude00") == "\U0001f600"  # a pair is the character it encodes
    text = "accuracy 準確率 \U0001f600"
    assert without_surrogates(text) is text  # nothing to replace: the same object
    for value in (None, 3, 2.5, True):
        assert without_surrogates(value) is value


def test_parsed_json_is_cleaned_in_place_keys_too_and_in_order() -> None:
    data: Any = json.loads(
        '{"metrics": ["accuracy\\udcff"], "loss\\udcff": "x", "n": 1, "z": [{"k\\ud800": ["\\udcff"]}]}'
    )
    cleaned = without_surrogates(data)
    assert cleaned is data
    assert cleaned == {"metrics": ["accuracy\ufffd"], "loss\ufffd": "x", "n": 1, "z": [{"k\ufffd": ["\ufffd"]}]}
    assert list(cleaned) == ["metrics", "loss\ufffd", "n", "z"]


def test_a_record_nested_deeper_than_the_recursion_limit_is_cleaned() -> None:
    root: list[Any] = []
    node = root
    for _ in range(50_000):
        child: list[Any] = [LONE]
        node.append(child)
        node = child
    without_surrogates(root)
    assert node == ["\ufffd"]
    cycle: list[Any] = [LONE]
    cycle.append(cycle)
    assert without_surrogates(cycle)[0] == "\ufffd"  # a container inside itself: no endless loop


def test_escape_invisible_makes_every_hidden_character_visible() -> None:
    assert escape_invisible("bob\x1b") == "bob-x1b"
    assert escape_invisible("bob\u202e") == "bob-u202e"
    assert escape_invisible("bob\u200b") == "bob-u200b"
    assert escape_invisible(f"bob{LONE}") == "bob-xff"  # the byte the file name really has
    assert escape_invisible("eve\nmallory\t") == "eve-x0amallory-x09"
    assert escape_invisible("Zoë 王") == "Zoë 王"


def test_printable_and_spreadsheet_cells_hold_no_surrogate() -> None:
    assert printable(f"accuracy{LONE}") == "accuracy\ufffd"
    assert spreadsheet_cell(f"={LONE}") == "'=\ufffd"


# --- the writers: grader.atomic and the batch's JSON ---------------------------------------------


def test_the_atomic_writers_never_fail_on_a_surrogate(tmp_path: Path) -> None:
    write_atomically(tmp_path / "report.md", f"Metrics: accuracy{LONE}\n")
    assert strictly_utf8(tmp_path / "report.md") == "Metrics: accuracy\ufffd\n"
    write_json_atomically(tmp_path / "a.json", {f"accuracy{LONE}": [f"loss{LONE}"]})
    assert json.loads(strictly_utf8(tmp_path / "a.json")) == {"accuracy\ufffd": ["loss\ufffd"]}
    # The batch's JSON (cache entries, grades.json, run.json): no "\udcff" escape either.
    cache.write_json_atomically(tmp_path / "b.json", {"metric": f"accuracy{LONE}", "fine": "準確率"})
    assert json.loads(strictly_utf8(tmp_path / "b.json")) == {"metric": "accuracy\ufffd", "fine": "準確率"}
    write_atomically(tmp_path / "bytes.bin", b"\xff")  # bytes are written as they are
    assert (tmp_path / "bytes.bin").read_bytes() == b"\xff"


def test_a_result_with_surrogates_is_written_as_json(tmp_path: Path) -> None:
    check = CheckResult("compiled", "Compiled", "passed", 5, 5, f"Metrics: accuracy{LONE}")
    result = GradeResult("exercise4", "a.py", True, 5, 5, 3, 42, "0", 1.0, [check])
    result.write_json(tmp_path / "x.json")
    assert "accuracy\ufffd" in strictly_utf8(tmp_path / "x.json")


# --- the untrusted records, cleaned where they are read -------------------------------------------


def test_the_sandbox_record_is_cleaned_when_validated() -> None:
    raw = json.loads(
        json.dumps(
            {
                "submission": "a.py",
                "seed": 42,
                "model_source": f"the model{LONE}",
                "model": {
                    "returned_type": "Sequential",
                    "is_keras_model": True,
                    "compile_config": {"metrics": [f"accuracy{LONE}"], "loss": f"sparse{LONE}"},
                },
                "train": {"returned_type": "History", "is_history": True, "history": {f"accuracy{LONE}": [0.5]}},
                "steps": {
                    "train": {"name": "train", "status": "exception", "exception": {"type": "E", "message": LONE}}
                },
            }
        )
    )
    assert has_surrogate(json.dumps(raw, ensure_ascii=False))  # the escapes decoded to surrogates
    evidence = from_json(SandboxEvidence, raw)
    validate_sandbox_evidence(evidence, raw=raw)
    text = json.dumps(to_json(evidence), ensure_ascii=False)
    assert not has_surrogate(text)
    assert evidence.model is not None and evidence.model.compile_config["metrics"] == ["accuracy\ufffd"]
    assert evidence.train is not None and list(evidence.train.history) == ["accuracy\ufffd"]
    assert evidence.steps["train"].exception is not None and evidence.steps["train"].exception.message == "\ufffd"
    assert evidence.model_source == "the model\ufffd"


def test_the_evaluation_answer_is_cleaned_when_read() -> None:
    measured = read_answer(
        json.loads(
            '{"status": "ok", "facts": {"layers": [{"name": "dense\\udcff"}]}, "weights_digest": null,'
            ' "input_shape_used": [28, 28], "load_seconds": 1.0}'
        )
    )
    assert isinstance(measured, ModelMeasured) and measured.facts == {"layers": [{"name": "dense\ufffd"}]}
    error = read_answer(json.loads('{"status": "error", "code": "crashed", "facts": {"text\\udcff": "boom\\udcff"}}'))
    assert isinstance(error, EvaluationError) and error.facts == {"text\ufffd": "boom\ufffd"}


def test_the_saved_models_config_is_cleaned_when_read(tmp_path: Path) -> None:
    def dense(name: str, units: int, inputs: int, activation: str) -> dict[str, Any]:
        return {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"name": name, "units": units, "activation": activation, "use_bias": True},
            "build_config": {"input_shape": [None, inputs]},
        }

    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 784]}},
                dense(f"dense{LONE}", 64, 784, "relu"),
                dense("dense_1", 10, 64, "softmax"),
            ],
        },
        "compile_config": {"loss": f"sparse_categorical_crossentropy{LONE}", "metrics": [f"accuracy{LONE}"]},
    }
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))  # ASCII: the surrogates as "\udcff" escapes
        archive.writestr("metadata.json", "{}")
    facts = check_archive(path, max_params=None)
    assert facts.compile_config == {"loss": "sparse_categorical_crossentropy\ufffd", "metrics": ["accuracy\ufffd"]}


# --- ids from file names: grader.batch.discover ---------------------------------------------------


def make_class(folder: Path, names: list[str]) -> Path:
    folder.mkdir()
    for name in names:
        (folder / name).write_text("x = 1\n")
    return folder


def ids_and_problems(folder: Path) -> dict[str, str]:
    found = discover_students(folder, load_exercise("exercise4"))
    return {s.id: s.problem for s in found.students}


def test_a_doctored_name_neither_takes_nor_blocks_the_clean_students_id(tmp_path: Path) -> None:
    folder = make_class(tmp_path / "subs", ["bob.py", "bob\x1b.py", "bob\u202e.py", "carol.py"])
    assert ids_and_problems(folder) == {"bob": "", "bob-x1b": "", "bob-u202e": "", "carol": ""}


def test_names_made_alike_by_trimming_or_cutting_keep_apart(tmp_path: Path) -> None:
    long = "a" * (ID_LIMIT + 20)
    folder = make_class(tmp_path / "subs", ["bob.py", "bob .py", f"{long}x.py", f"{long}y.py"])
    found = ids_and_problems(folder)
    assert found["bob"] == "" and len(found) == 4 and not any(found.values())
    others = set(found) - {"bob"}
    assert sum(i.startswith("bob-") for i in others) == 1 and all(len(i) <= ID_LIMIT for i in others)
    # One student's two files still share an id: that is the "keep one" error row.
    folder = make_class(tmp_path / "two", ["bob.py", "bob.ipynb"])
    assert "keep one" in ids_and_problems(folder)["bob"]


def test_a_name_that_is_not_utf8_gets_a_readable_id(tmp_path: Path) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "carol.py").write_text("x = 1\n")
    try:
        (folder / os.fsdecode(b"bob\xff.py")).write_text("x = 1\n")  # the name's bytes as they are
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    assert ids_and_problems(folder) == {"bob-xff": "", "carol": ""}
    assert safe_id(f"bob{LONE}") == "bob-xff"


def test_hidden_files_that_look_like_submissions_are_listed_as_skipped(tmp_path: Path) -> None:
    folder = make_class(tmp_path / "subs", ["..py", "...py", ".alice.py", ".DS_Store", "README.md", "carol.py"])
    found = discover_students(folder, load_exercise("exercise4"))
    assert [s.id for s in found.students] == ["carol"]
    assert sorted(p.name for p in found.ignored) == ["...py", "..py", ".alice.py", "README.md"]


# --- the batch's exports, with a surrogate everywhere a learner can put one ------------------------


def test_the_batch_writers_never_fail_on_a_surrogate(tmp_path: Path) -> None:
    spec = load_exercise("exercise4")
    check = CheckResult("compiled", "Compiled", "failed", 0, 5, f"Metrics: accuracy{LONE}")
    result = GradeResult("exercise4", f"bob{LONE}.py", False, 0, 100, 80, 42, "0", 1.0, [check])
    moodle = Student(
        "bob-xff", tmp_path / f"bob{LONE}.py", name=f"Bob{LONE}", lms="moodle", lms_entry=f"Bob{LONE}_1_x_"
    )
    record = StudentRecord("bob-xff", f"bob{LONE}.py", "failed", result, key="k", student=moodle)
    record.flags.append(f"identical bytes to eve{LONE}")
    (tmp_path / "students" / "bob-xff").mkdir(parents=True)
    (tmp_path / "students" / "bob-xff" / "report.html").write_text("<p>report</p>")
    files = write_gradebook(tmp_path, [record], spec)
    files["summary"] = write_summary(tmp_path, [record], spec, unmatched=[f"eve{LONE}"])
    files.update(write_exports(tmp_path, [record], spec, ["canvas", "moodle", "csv"]))
    for kind, path in files.items():
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                assert archive.namelist() == ["Bob\ufffd_1_x_/report.html"]
            continue
        text = strictly_utf8(path)
        if kind == "gradebook":
            row = next(csv.DictReader(text.splitlines()))
            assert row["student_id"] == "bob-xff" and row["submission"] == "bob-xff.py"  # the byte named, as in the id
