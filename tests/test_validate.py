"""`grade validate`, its JUnit XML, and the pytest plugin for course repositories.

Fast tests validate quizzes (milliseconds) against a solutions folder of the test's own; the
shipped model exercises are validated once on the real data, marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.cli import main
from grader.render.junit import JUnitCase, JUnitSuite, junit_xml
from grader.spec import load_exercise
from grader.validate import bad_variants

ROOT = Path(__file__).resolve().parents[1]
QUIZ = "exercise1"


def quiz_solutions(root: Path, manifest: str, variants: dict[str, list[tuple[str, str]]]) -> Path:
    """A solutions folder for exercise1: the reference, and bad variants made from it by
    replacing answers, with their manifest."""
    spec = load_exercise(QUIZ)
    folder = root / "solutions" / QUIZ
    (folder / "bad").mkdir(parents=True)
    shutil.copyfile(spec.solution_path, folder / spec.stub)
    (folder / "bad" / "manifest.toml").write_text(textwrap.dedent(manifest))
    for name, replacements in variants.items():
        text = spec.solution_path.read_text()
        for old, new in replacements:
            assert old in text
            text = text.replace(old, new)
        (folder / "bad" / name).write_text(text)
    return root / "solutions"


WRONG_NONLINEARITY = ('nonlinearity = "b"', 'nonlinearity = "a"')
WRONG_SIGMOID = ('sigmoid_range = "a"', 'sigmoid_range = "b"')


def test_validate_checks_each_variant_against_its_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    solutions = quiz_solutions(
        tmp_path,
        """
        [[variants]]
        file = "wrong_nonlinearity.toml"
        mistake = "picks a) for why a nonlinear activation is needed"
        fails = ["nonlinearity"]

        [[variants]]
        file = "two_wrong.toml"
        fails = ["nonlinearity"]    # wrong on purpose: sigmoid_range fails too
        """,
        {
            "wrong_nonlinearity.toml": [WRONG_NONLINEARITY],
            "two_wrong.toml": [WRONG_NONLINEARITY, WRONG_SIGMOID],
            "unlisted.toml": [WRONG_NONLINEARITY],
        },
    )
    monkeypatch.setenv("GRADER_SOLUTIONS_DIR", str(solutions))

    junit = tmp_path / "validate.xml"
    assert main(["validate", QUIZ, "--junit", str(junit)]) == 1

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == QUIZ
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases[f"reference solution {load_exercise(QUIZ).stub} passes with full marks"].find("failure") is None
    assert cases["bad/wrong_nonlinearity.toml fails exactly: nonlinearity"].find("failure") is None
    failure = cases["bad/two_wrong.toml fails exactly: nonlinearity"].find("failure")
    assert failure is not None and "also failed sigmoid_range" in failure.get("message", "")
    unlisted = next(c for name, c in cases.items() if "unlisted.toml" in name).find("failure")
    assert unlisted is not None and "not listed" in unlisted.get("message", "")


def test_shipped_quizzes_validate(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    assert main(["validate", "exercise1", "exercise2", "exercise3"]) == 0
    assert "6 of 6 validation cases hold" in capfd.readouterr().out


def test_manifest_mistakes_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    solutions = quiz_solutions(
        tmp_path,
        """
        [[variants]]
        file = "wrong.toml"
        fails = ["nonlinearity", "no_such_check"]
        """,
        {"wrong.toml": [WRONG_NONLINEARITY]},
    )
    monkeypatch.setenv("GRADER_SOLUTIONS_DIR", str(solutions))
    assert main(["validate", QUIZ]) == 1
    assert "no_such_check" in capfd.readouterr().out

    (solutions / QUIZ / "bad" / "manifest.toml").write_text("[[variants]]\nfile = 3\n")
    assert main(["validate", QUIZ]) == 2  # a broken manifest is a spec error: one line
    assert "variant 1 needs" in capfd.readouterr().err


def test_shipped_bad_variants_name_real_checks_and_files() -> None:
    for exercise in ("fashion_mnist", "exercise4"):
        cases = bad_variants(load_exercise(exercise))
        assert len(cases) >= 2, exercise
        assert all(not case.problem for case in cases), [case.problem for case in cases]


def test_junit_xml_escapes_learner_text() -> None:
    text = junit_xml(
        [
            JUnitSuite(
                "x",
                [JUnitCase('a <b> & "c"', "grade.validate.x", 1.5, failure="bad ]]> <tag>", details="\x1b[31m red")],
            )
        ]
    )
    root = ET.fromstring(text.encode())
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == 'a <b> & "c"'
    failure = case.find("failure")
    assert failure is not None and failure.text == " red" and failure.get("message") == "bad ]]> <tag>"
    assert root.get("failures") == "1" and root.get("tests") == "1"


def test_validate_shipped_model_exercises_on_real_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture, reference_grading
) -> None:
    """The stubs and the bad variants are graded here for real (exercise4's no_history variant
    trains fully; the others fail within seconds). The reference solutions' gradings are the
    session's shared ones (``reference_grading``: the same grader, the same real data), so each
    trains once a session rather than once more here."""
    from grader.batch import executor
    from grader.batch.task import TaskOutcome

    shared = {str(load_exercise(e).solution_path): reference_grading(e) for e in ("fashion_mnist", "exercise4")}
    for graded in shared.values():
        assert graded.result, graded.output

    class SharingReferenceGradings(executor.LocalExecutor):
        def grade(self, tasks):
            for task in tasks:
                if task.submission in shared:
                    yield task, TaskOutcome.from_json({"result": shared[task.submission].result})
            yield from super().grade([task for task in tasks if task.submission not in shared])

    monkeypatch.setattr(executor, "LocalExecutor", SharingReferenceGradings)
    junit = tmp_path / "validate.xml"
    code = main(["validate", "fashion_mnist", "exercise4", "--jobs", "2", "--junit", str(junit)])
    output = capfd.readouterr()
    assert code == 0, output.out + output.err
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert int(root.get("tests", "0")) == 8  # per exercise: reference, stub, two bad variants


# --- The pytest plugin -------------------------------------------------------------------------


def test_pytest_plugin_imports_nothing_heavy() -> None:
    code = "import sys, grader.pytest_plugin; print(sorted(m for m in ('tensorflow', 'keras', 'grader.pipeline') if m in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "[]", completed.stderr


def test_pytest_plugin_in_a_course_repository(tmp_path: Path) -> None:
    spec = load_exercise(QUIZ)
    (tmp_path / "wrong.toml").write_text(spec.solution_path.read_text().replace(*WRONG_NONLINEARITY))
    (tmp_path / "test_course.py").write_text(
        textwrap.dedent(
            f"""
            import pytest

            def test_reference_passes(exercise_grader):
                exercise_grader.assert_passes(exercise_grader.grade("{QUIZ}", {str(spec.solution_path)!r}))

            def test_mistake_is_caught(exercise_grader):
                result = exercise_grader.grade("{QUIZ}", "wrong.toml")
                exercise_grader.assert_fails_exactly(result, ["nonlinearity"])
                assert exercise_grader.check(result, "sigmoid_range").status == "passed"

            def test_a_wrong_expectation_says_what_differs(exercise_grader):
                result = exercise_grader.grade("{QUIZ}", "wrong.toml")
                with pytest.raises(pytest.fail.Exception, match="not failed: sigmoid_range; also failed: none"):
                    exercise_grader.assert_fails_exactly(result, ["nonlinearity", "sigmoid_range"])
            """
        )
    )
    # Installed, the plugin loads by its entry point; from a source tree, by -p.
    from importlib.metadata import entry_points

    installed = any(ep.value == "grader.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "grader.pytest_plugin"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-q", "-p", "no:cacheprovider", "test_course.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout


# --- Course folders: --course / GRADER_COURSE_DIR, and the plugin's cache between runs ----------


def course_folder(root: Path, with_solutions: bool = True) -> Path:
    """A course repository of its own: exercise1 with its reference solution."""
    spec = load_exercise(QUIZ)
    course = root / "course"
    shutil.copytree(spec.directory, course / "exercises" / QUIZ)
    if with_solutions:
        (course / "solutions" / QUIZ).mkdir(parents=True)
        shutil.copyfile(spec.solution_path, course / "solutions" / QUIZ / spec.stub)
    return course


def test_validate_reads_a_course_folder(
    tmp_path: Path, capfd: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = course_folder(tmp_path)
    bare = course_folder(tmp_path / "bare", with_solutions=False)
    # --course sets GRADER_COURSE_DIR for the command's own processes (workers inherit it), and
    # puts back what was there when the command ends.
    monkeypatch.setenv("GRADER_COURSE_DIR", str(tmp_path / "elsewhere"))
    assert main(["validate", QUIZ, "--course", str(course)]) == 0
    assert os.environ["GRADER_COURSE_DIR"] == str(tmp_path / "elsewhere")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(bare))
    assert main(["validate", QUIZ]) == 1
    # Where reference solutions come from (the terminal may wrap the sentence anywhere).
    assert "--course DIR" in " ".join(capfd.readouterr().out.split())
    assert main(["validate", QUIZ, "--course", str(tmp_path / "nowhere")]) == 2


def test_wheel_carries_no_reference_solutions() -> None:
    import tomllib

    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    shipped = {**wheel.get("force-include", {})}
    assert not any("solutions" in source or "solutions" in target for source, target in shipped.items())
    assert "grader" in wheel["packages"] and not (ROOT / "grader" / "_bundled" / "solutions").exists()


def test_pytest_plugin_keeps_results_between_runs(tmp_path: Path) -> None:
    course = course_folder(tmp_path)
    spec = load_exercise(QUIZ)
    (course / "tests").mkdir()
    (course / "tests" / "test_exercises.py").write_text(
        textwrap.dedent(
            f"""
            import os

            def test_reference(exercise_grader):
                exercise_grader.assert_passes(exercise_grader.grade("{QUIZ}", "solutions/{QUIZ}/{spec.stub}"))

            def test_stub(exercise_grader):
                exercise_grader.assert_fails(exercise_grader.grade("{QUIZ}", "exercises/{QUIZ}/{spec.stub}"))

            def test_graded_this_run(exercise_grader):
                assert exercise_grader.trained == int(os.environ["EXPECT_GRADED"])
            """
        )
    )
    from importlib.metadata import entry_points

    installed = any(ep.value == "grader.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "grader.pytest_plugin"]
    command = [sys.executable, "-m", "pytest", *plugin, "-q", "-p", "no:cacheprovider", "tests",
               "--grader-course", str(course), "--grader-cache-dir", str(tmp_path / "ci-cache")]  # fmt: skip
    # A frozen copy of the grader: its code is part of the cache key, and a tree edited while
    # this test runs would rightly grade again.
    frozen = tmp_path / "grader-copy"
    for name in ("grader", "templates", "exercises"):
        shutil.copytree(ROOT / name, frozen / name, ignore=shutil.ignore_patterns("__pycache__"))
    base = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(frozen), os.environ.get("PYTHONPATH")]))}
    for expected in ("2", "0"):  # the second CI run grades nothing
        completed = subprocess.run(command, cwd=course, env={**base, "EXPECT_GRADED": expected},
                                   capture_output=True, text=True, timeout=300)  # fmt: skip
        assert completed.returncode == 0, completed.stdout + completed.stderr
    assert len(list((tmp_path / "ci-cache").glob("*.json"))) == 2
