"""What the command line, the terminal summary, the progress lines, quick and watch mode and the
batch outputs say, in the current language (see ``grader.messages``).

Each sentence is written here once, in English (the gettext message id), and translated through
the ``interface`` catalogue (``grader/locale/<lang>/LC_MESSAGES/interface.po``). The report
templates (``templates/*.j2``) hold their own sentences as ``_("...")`` calls, which belong to
the same catalogue; ``grader.render.report`` binds ``_`` to :func:`template_text`.

Words that are machine-stable stay English in every language: check ids, status ids in JSON
and CSV, exercise ids, command names and options, Keras names.
"""

from __future__ import annotations

from collections.abc import Mapping

from grader.messages import N_, _, current_language, say, say_n

# --- the words of a result ----------------------------------------------------------------------

STATUS_WORDS: Mapping[str, str] = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "error": N_("error"),
    "skipped": N_("skipped"),
    # a batch row's outcomes
    "timeout": N_("timeout"),
    "missing": N_("missing"),
}


def status_word(status: str) -> str:
    """A check's (or a batch row's) status as the learner reads it; the id stays in JSON/CSV."""
    word = STATUS_WORDS.get(status)
    return _(word) if word else status


STYLE_WORDS: Mapping[str, str] = {
    "module": N_("module"),
    "certificate": N_("certificate"),
    "script": N_("script"),
    "notebook": N_("notebook"),
    "saved_model": N_("saved model"),
    "quiz": N_("quiz"),
}
"""How a submission is written (grader.adapters.STYLES), as a word: "module submission"."""


def style_word(style: str) -> str:
    """A submission style in the current language. English shows the text as the caller wrote
    it (``saved_model`` on the terminal, ``saved model`` in Gradescope's sentence); an unknown
    style, as it is."""
    word = STYLE_WORDS.get(style.replace(" ", "_"))
    if word is None or current_language() == "en":
        return style
    return _(word)


ISOLATION_WORDS: Mapping[str, str] = {"process": N_("process")}
"""How learner code was isolated (grader.sandbox), as a word where it is not a tool's name."""


def isolation_phrase(isolation: str) -> str:
    """``bwrap isolation``, ``process isolation``; ``no code run`` for a quiz (isolation "none"),
    which runs no learner code at all."""
    if isolation == "none":
        return _("no code run")
    word = ISOLATION_WORDS.get(isolation)
    shown = isolation if word is None or current_language() == "en" else _(word)
    return say("{isolation} isolation", isolation=shown)


def submission_style(style: str) -> str:
    """``module submission``, ``quiz submission`` (模块形式的提交), in the current language."""
    return say("{style} submission", style=style_word(style))


# The commented template of a batch's overrides.toml (grader.batch.policy): the TOML keys stay
# as they are in every language; the comments are sentences of their own, translated.


def overrides_template() -> str:
    """The commented overrides.toml a batch writes once, in the current language."""
    example = _("Checked by hand: the model is right, the loss was named differently.").replace('"', "'")
    lines = [
        "# " + _("Instructor's overrides for this class: `grade batch` reads this file on every run and applies it."),
        "# " + _("It never writes to it again. One table per student id (as in gradebook.csv):"),
        "#",
        '# [students."alice"]',
        f'# comment = "{example}"',
        "# total = 95                  # " + _("the final score, out of the exercise's points"),
        "# waive_late = true           # " + _("no late penalty for this student"),
        '# [students."alice".checks]',
        "# training = 10               # " + _("points for one check (0 .. its points)"),
    ]
    return "\n".join(lines) + "\n"


OVERRIDES_TEMPLATE = overrides_template()
"""The English template (what grader.batch.policy.OVERRIDES_TEMPLATE always was)."""


# --- where a dataset was found (grader.datasets, `grade data status`) -----------------------------

DATA_SOURCE_LABELS: Mapping[str, str] = {
    "grader cache": N_("grader cache"),
    "system dataset folder": N_("system dataset folder"),
    "course folder": N_("course folder"),
    "Keras cache": N_("Keras cache"),
}
"""The kinds of place a dataset is looked for; "--data-dir" and "GRADER_DATA_DIR" stay as typed."""


def data_source(where: str, label: str) -> str:
    """``/usr/share/datasets/fashion-mnist (system dataset folder)``."""
    word = DATA_SOURCE_LABELS.get(label)
    return say("{where} ({label})", where=where, label=_(word) if word else label)


def keras_download() -> str:
    return _("Keras's download")


# --- `grade validate`: the per-file lines (grader.spec_check) ------------------------------------


def spec_valid(kind: str, count: int, points: str, pass_mark: str) -> str:
    """``valid (12 checks, 100 points, pass mark 80)``; a quiz counts items."""
    if kind == "model":
        return say(
            "valid ({count} checks, {points} points, pass mark {pass_mark})",
            count=count,
            points=points,
            pass_mark=pass_mark,
        )
    return say(
        "valid ({count} items, {points} points, pass mark {pass_mark})", count=count, points=points, pass_mark=pass_mark
    )


def file_parses(defined: str) -> str:
    """``parses and defines build_model(), train()``; ``parses`` when nothing is required."""
    if defined:
        return say("parses and defines {defined}", defined=defined)
    return _("parses")


# --- batch: finding each student's submission (grader.batch.discover) ---------------------------


def batch_not_a_folder(folder: str) -> str:
    return say("{folder} is not a folder: give the folder that holds one file or folder per student.", folder=folder)


def batch_skipped_hidden(name: str) -> str:
    return say(
        "Skipped {name}: its name starts with a dot, which hides it; rename it (for example to the student's name) to have it graded.",
        name=name,
    )


def batch_several_submissions(where: str, names: str, stub: str) -> str:
    return say(
        "{where} holds several possible submissions ({names}); rename the one to grade to {stub}.",
        where=where,
        names=names,
        stub=stub,
    )


def batch_only_links(where: str, names: str) -> str:
    return say(
        "{where} holds only symbolic links ({names}); the grader does not follow links. Hand in the file itself.",
        where=where,
        names=names,
    )


def batch_no_submission(where: str, kinds: str, stub: str) -> str:
    return say("{where} holds no submission file ({kinds}); expected {stub}.", where=where, kinds=kinds, stub=stub)


def verdict_word(passed: bool | None, *, graded: bool = True) -> str:
    """PASSED / NOT PASSED / PREVIEW (quick mode) / NOT GRADED."""
    if not graded:
        return _("NOT GRADED")
    if passed is None:
        return _("PREVIEW")
    return _("PASSED") if passed else _("NOT PASSED")


def html_lang() -> str:
    """The ``lang`` attribute of a report: a CJK font is then picked for the right script."""
    return {"zh": "zh-CN"}.get(current_language(), "en")


def readme_name() -> str:
    """The exercise's task description in the current language (``README.zh.md`` beside
    ``README.md``)."""
    return {"zh": "README.zh.md"}.get(current_language(), "README.md")


# --- the command line ---------------------------------------------------------------------------


def usage_error(problem: str, prog: str) -> str:
    return say("{problem} (see `{prog} --help`)", problem=problem, prog=prog)


def unknown_language(name: str, known: str) -> str:
    return say("--lang {name}: unknown language; the grader speaks {known}.", name=name, known=known)


def error_prefix() -> str:
    return _("error:")


def warning_prefix() -> str:
    return _("warning:")


def interrupted() -> str:
    return _("interrupted")


def grader_failed() -> str:
    return _("The grader itself failed (this is a bug in the grader, not in your code):")


def points_count(points: str) -> str:
    return say("{points} points", points=points)


def wrote_stub(target: str, exercise: str) -> str:
    return say("Wrote {target}. Edit it, then run: grade {exercise} {target}", target=target, exercise=exercise)


def task_described_in(readme: str) -> str:
    return say("The task is described in {readme}", readme=readme)


def stub_exists(target: str) -> str:
    return say("{target} already exists; edit it, or pass --force to replace it with a fresh stub.", target=target)


def unknown_exercise(exercise: str, known: str) -> str:
    if not known:
        return say("Unknown exercise '{exercise}': there are no exercises (see `grade list`).", exercise=exercise)
    return say(
        "Unknown exercise '{exercise}'. Known exercises: {known} (see `grade list`).", exercise=exercise, known=known
    )


def output_is_submission(option: str, path: str) -> str:
    return say(
        "{option} {path} is the file being graded: writing there would overwrite it. Choose another name.",
        option=option,
        path=path,
    )


def output_is_report(option: str, path: str) -> str:
    return say(
        "{option} {path} is a file of the report the grader writes: one would overwrite the other. "
        "Choose another name, or another report folder with --report.",
        option=option,
        path=path,
    )


def output_is_input(option: str, path: str) -> str:
    return say(
        "{option} {path} is a file the grader reads (a submission, an exercise's file, a dataset or "
        "the roster): writing there would overwrite it. Choose another name.",
        option=option,
        path=path,
    )


def output_inside_submissions(option: str, path: str, folder: str) -> str:
    return say(
        "{option} {path} is inside the submissions folder {folder}: the grader's files would be mixed "
        "with the students' work. Choose a folder outside it.",
        option=option,
        path=path,
        folder=folder,
    )


def report_not_ours(path: str) -> str:
    return say(
        "{path} exists and was not written by the grader, so it is left as it is. Choose another folder "
        "with --report, move the file away, or pass --no-report.",
        path=path,
    )


DATASET_TITLES: Mapping[str, str] = {
    "MNIST": N_("MNIST"),
    "Fashion-MNIST": N_("Fashion-MNIST"),
}
"""The built-in datasets' titles (grader.datasets), as the book names them; a course's own
dataset keeps the title its author wrote."""


def dataset_title(title: str) -> str:
    known = DATASET_TITLES.get(title)
    return _(known) if known else title


def dataset_missing(title: str, how: str, details: str, *, corrupt: bool) -> str:
    """The one sentence a user reads when a dataset is missing: how to get it, then what was
    skipped and why (``details``: ``" (skipped ...)"`` or empty)."""
    facts = {"title": dataset_title(title), "how": how, "details": details}
    if corrupt:
        return say(
            "{title} was not found intact: {how}, or pass --data-dir pointing at the four IDX files{details}.", **facts
        )
    return say("{title} was not found: {how}, or pass --data-dir pointing at the four IDX files{details}.", **facts)


def dataset_found(found: bool) -> str:
    return _("found") if found else _("MISSING")


def dataset_not_official() -> str:
    """After "found": the files are not the published dataset (other checksums: a course's
    copy, or test data), so grades made with them are not comparable."""
    return _("not official")


def timeout_positive() -> str:
    return _("--timeout must be a positive number of seconds.")


def full_needs_watch() -> str:
    return _("--full goes with --watch (a grading without --quick is already a full one).")


def no_stub_here(stub: str, exercise: str) -> str:
    return say(
        "There is no {stub} in this folder: run `grade init {exercise}` to get the stub, "
        "or give the path: grade {exercise} path/to/{stub}",
        stub=stub,
        exercise=exercise,
    )


def jobs_positive() -> str:
    return _("--jobs must be 1 or more.")


def dask_needs_scheduler() -> str:
    return _("--executor dask and --scheduler ADDRESS go together.")


def due_needs_penalty() -> str:
    return _("--due and --late-penalty go together (a due date alone takes nothing off; use both).")


def roster_missing(roster: str) -> str:
    return say("The roster {roster} does not exist.", roster=roster)


def summary_table_failed(problem: str) -> str:
    return say(
        "warning: the summary table could not be shown ({problem}); this is a bug in the grader, not in your code.",
        problem=problem,
    )


def report_not_written(name: str, folder: str, why: str) -> str:
    return say("warning: {name} could not be written to {folder}: {why}", name=name, folder=folder, why=why)


def report_written(path: str, beside: str | None = None) -> str:
    if beside:
        return say("Report: {path} (and {beside} beside it)", path=path, beside=beside)
    return say("Report: {path}", path=path)


def task_link(readme: str) -> str:
    """Below the verdict: where the task is explained, in the learner's language."""
    return say("The task: {readme}", readme=readme)


def result_not_written(path: str, why: str) -> str:
    return say("warning: the result could not be written to {path}: {why}", path=path, why=why)


def result_written(path: str) -> str:
    return say("Result written to {path}", path=path)


def batch_interrupted() -> str:
    return _("Interrupted. Every finished result is saved: run the same command again to grade the rest.")


def batch_done(students: int, seconds: str, graded: int, cached: int, counts: str) -> str:
    return say_n(
        "{count} student in {seconds} s ({graded} graded now, {cached} from the cache): {counts}",
        "{count} students in {seconds} s ({graded} graded now, {cached} from the cache): {counts}",
        students,
        seconds=seconds,
        graded=graded,
        cached=cached,
        counts=counts,
    )


def status_count(count: int, status: str) -> str:
    return say("{count} {status}", count=count, status=status_word(status))


# --- a batch's progress lines (grader.batch.progress) ----------------------------------------------


def batch_start(students: int, cached: int, problems: int, to_grade: int, executor: str) -> str:
    """``30 students, 12 already graded (cached), 1 without a gradable submission, 17 to grade on
    2 threads.`` (the parts with a zero count are left out)."""
    parts = [say_n("{count} student", "{count} students", students)]
    if cached:
        parts.append(say("{count} already graded (cached)", count=cached))
    if problems:
        parts.append(say("{count} without a gradable submission", count=problems))
    parts.append(say("{count} to grade on {executor}", count=to_grade, executor=executor))
    return say("{parts}.", parts=list_separator().join(parts))


def batch_running(names: str, more: int, *, still: bool = False) -> str:
    """Who is being graded now: ``running: dave 9m12s, erin 4s and 2 more``; with ``still``, the
    line a log gets now and then: ``… still running: dave 9m12s``."""
    if more:
        names = say("{names} and {count} more", names=names, count=more)
    if still:
        return say("… still running: {names}", names=names)
    return say("running: {names}", names=names)


def batch_student_points(points: str, maximum: str, status: str, seconds: str) -> str:
    """``85/100 passed, 12.3 s``."""
    return say(
        "{points}/{maximum} {status}, {seconds} s",
        points=points,
        maximum=maximum,
        status=status_word(status),
        seconds=seconds,
    )


def local_jobs(jobs: int) -> str:
    """Where a batch grades: ``2 local jobs``."""
    return say_n("{count} local job", "{count} local jobs", jobs)


def dask_cluster(scheduler: str, workers: int) -> str:
    return say("Dask cluster at {scheduler} ({count} workers)", scheduler=scheduler, count=workers)


def batch_cached() -> str:
    """Where a student's line says its result came from the cache (instead of ``3/17``)."""
    return _("cached")


def batch_eta(duration: str) -> str:
    return say(", ETA {duration}", duration=duration)


def batch_bar_grading() -> str:
    return _("Grading")


def batch_bar_elapsed() -> str:
    return _("elapsed")


def batch_bar_eta() -> str:
    return _("ETA")


def batch_files(gradebook: str, summary: str) -> str:
    return say("Gradebook: {gradebook}  Summary: {summary}", gradebook=gradebook, summary=summary)


def batch_export(kind: str, path: str) -> str:
    return say("Export ({kind}): {path}", kind=kind, path=path)


def course_without_exercises(course: str) -> str:
    return say(
        "--course {course}: no exercises/ folder there (a course folder holds exercises/ and solutions/).",
        course=course,
    )


def validation_cases_hold(holding: int, total: int) -> str:
    return say_n(
        "{holding} of {count} validation case holds.",
        "{holding} of {count} validation cases hold.",
        total,
        holding=holding,
    )


# --- `grade validate`: what each case checks and how it came out (grader.validate) --------------


def validate_case_title(kind: str, name: str, fails: list[str]) -> str:
    """What a case checks: the reference solution, the stub, or a known-bad variant."""
    if kind == "reference":
        return say("reference solution {name} passes with full marks", name=name)
    if kind == "stub":
        return say("stub {name} does not pass", name=name)
    return say("bad/{name} fails exactly: {checks}", name=name, checks=", ".join(fails) or _("no check"))


def validate_missing_file(path: str) -> str:
    return say("{path} does not exist", path=path)


def validate_no_reference(problem: str) -> str:
    """An installed grader carries no reference solutions (learners install the same wheel)."""
    return say(
        "{problem}; reference solutions come from the grader's source tree or a course folder: "
        "give --course DIR (or GRADER_COURSE_DIR) holding exercises/ and solutions/",
        problem=problem,
    )


def validate_unknown_checks(exercise: str, checks: str) -> str:
    return say("the manifest names checks {exercise} does not have: {checks}", exercise=exercise, checks=checks)


def validate_unlisted_variant(name: str, manifest: str) -> str:
    return say("bad/{name} is not listed in {manifest}", name=name, manifest=manifest)


def validate_missed_check(check: str, status: str, message: str) -> str:
    return say("{check} ({status}: {message})", check=check, status=status_word(status), message=message)


def validate_not_full_marks(score: str, max_score: str, missed: str) -> str:
    return say(
        "scored {score}/{max_score}; not full marks: {missed}",
        score=score,
        max_score=max_score,
        missed=missed or _("below the pass mark"),
    )


def validate_stub_passes(score: str, max_score: str) -> str:
    return say(
        "the stub passes with {score}/{max_score}: the exercise grades nothing", score=score, max_score=max_score
    )


def validate_as_manifest_says() -> str:
    return _("as its manifest says")


def validate_did_not_fail(checks: str) -> str:
    return say("did not fail {checks}", checks=checks)


def validate_also_failed(checks: str) -> str:
    return say("also failed {checks}", checks=checks)


def validate_could_not_grade(message: str | None) -> str:
    return say("could not be graded: {message}", message=message if message is not None else _("unknown error"))


def junit_written(path: str) -> str:
    return say("JUnit XML written to {path}", path=path)


def files_sound(sound: int, total: int) -> str:
    return say_n(
        "{sound} of {count} file is sound (static checks; no training).",
        "{sound} of {count} files are sound (static checks; no training).",
        total,
        sound=sound,
    )


def cannot_write(path: str, why: str) -> str:
    return say("Cannot write {path}: {why}.", path=path, why=why)


def schema_written(path: str) -> str:
    return say("JSON Schema of exercise.toml written to {path}", path=path)


def not_graded(why: str) -> str:
    return say("Not graded: {why}", why=why)


def results_written(path: str) -> str:
    return say("Results written to {path}", path=path)


# --- the terminal summary -----------------------------------------------------------------------


def column_status() -> str:
    return _("Status")


def column_check() -> str:
    return _("Check")


def column_points() -> str:
    return _("Points")


def column_details() -> str:
    return _("Details")


def hint_label() -> str:
    return _("Hint: ")


def your_code_raised() -> str:
    return _("Your code raised")


def test_accuracy_line(accuracy: str) -> str:
    return say("Test accuracy: {accuracy}", accuracy=accuracy)


def raw_pixels_note() -> str:
    return _(" (model trained on raw 0-255 pixels)")


def accuracy_not_measured() -> str:
    return _("Test accuracy: not measured (no trained model)")


def score_line(score: str, max_score: str) -> str:
    return say("Score: {score} / {max_score}", score=score, max_score=max_score)


def pass_mark_note(pass_mark: str) -> str:
    return say("   (pass mark {pass_mark})", pass_mark=pass_mark)


def list_separator() -> str:
    """Between the items of a list in a sentence: ", " (Chinese: "，")."""
    return _(", ")


def run_facts(seconds: str, seed: str | None, version: str, style: str | None, isolation: str) -> str:
    """``in 12.3 s, seed 42, grader 1.0, module submission, bwrap isolation``."""
    parts = [say("in {seconds} s", seconds=seconds)]
    if seed is not None:
        parts.append(say("seed {seed}", seed=seed))
    parts.append(say("grader {version}", version=version))
    if style:
        parts.append(submission_style(style))
    parts.append(isolation_phrase(isolation))
    return list_separator().join(parts)


def quick_accuracy_not_measured() -> str:
    return _("Test accuracy: not measured (quick mode trains on a small slice only)")


def quick_points(score: str, possible: str, max_score: str) -> str:
    return say(
        "Points so far: {score} of the {possible} that quick mode can check ({max_score} in all)",
        score=score,
        possible=possible,
        max_score=max_score,
    )


def preview_not_a_grade() -> str:
    return _(" - not a grade: run without --quick for the test accuracy and the verdict.")


def notes_heading() -> str:
    return _("Notes:")


def more_notes(count: int) -> str:
    return say_n("... and {count} more (see the report)", "... and {count} more (see the report)", count)


def plain_score_line(score: str, max_score: str, verdict: str) -> str:
    return say("Score: {score} / {max_score}  {verdict}", score=score, max_score=max_score, verdict=verdict)


# --- progress lines -----------------------------------------------------------------------------

STAGE_TEXT: Mapping[str, str] = {
    "data": N_("Loading the dataset"),
    "tensorflow": N_("Starting TensorFlow"),
    "import": N_("Importing your code"),
    "load_data": N_("Running load_data()"),
    "build_model": N_("Running build_model()"),
    "train": N_("Running train()"),
    "evaluate": N_("Testing your model on the test split"),
    "model_facts": N_("Reading your model's architecture and settings (quick mode: no test)"),
    # what the child runs for the other submission styles (grader.sandbox.child sends the code)
    "script": N_("Running your script"),
    "notebook": N_("Running your notebook"),
    "saved_model": N_("Running keras.saving.load_model()"),
}


def stage_text(stage: str) -> str | None:
    """A known stage's line, translated; None for a stage this module does not know."""
    text = STAGE_TEXT.get(stage)
    return _(text) if text else None


def running_stage(stage: str) -> str:
    return say("Running {stage}", stage=stage)


def training(fit_call: int) -> str:
    if fit_call > 1:
        return say("Training (fit call {fit_call})", fit_call=fit_call)
    return _("Training")


def starting() -> str:
    return _("Starting")


def epoch_counter(epoch: int, epochs: str) -> str:
    """The live line's counter: ``epoch 2/5`` (epoch is kept as the book keeps it)."""
    return say("epoch {epoch}/{epochs}", epoch=epoch, epochs=epochs)


def epoch_line(epoch: int, epochs: str) -> str:
    """A permanent line per finished epoch: ``Epoch 2/5`` (the logs follow after a colon)."""
    return say("Epoch {epoch}/{epochs}", epoch=epoch, epochs=epochs)


LOG_ENTRIES: Mapping[str, str] = {
    "loss": N_("loss {value}"),
    "accuracy": N_("accuracy {value}"),
    "val_loss": N_("val_loss {value}"),
    "val_accuracy": N_("val_accuracy {value}"),
}
"""Keras' log names as the book says them (loss 损失, accuracy 准确率); others stay as Keras
names them (they are the learner's own metric names)."""


def log_entry(key: str, value: str) -> str:
    """``loss 0.3012`` in a progress line; ``key`` is already printable."""
    entry = LOG_ENTRIES.get(key)
    return say(entry, value=value) if entry else f"{key} {value}"


def epoch_line_with_logs(line: str, logs: str) -> str:
    """``Epoch 2/5: loss 0.3012, accuracy 0.8921``."""
    return say("{epoch_line}: {logs}", epoch_line=line, logs=logs)


# --- quick mode -----------------------------------------------------------------------------------

NOT_MEASURED = N_("Not measured in quick mode")


def not_measured() -> str:
    return _(NOT_MEASURED)


def not_measured_because(summary: str) -> str:
    """``Not measured in quick mode: train() ran a trial fit ...`` (Chinese: a full-width colon)."""
    return say("{not_measured}: {summary}", not_measured=not_measured(), summary=summary)


def quick_no_test_accuracy() -> str:
    return say(
        "{not_measured}: the model was trained only on a trial slice, so it has no test accuracy yet. "
        "Grade without --quick for the test accuracy and the verdict.",
        not_measured=not_measured(),
    )


def quick_no_test_accuracy_without_fit() -> str:
    """Quick mode with no model.fit() call: nothing was shortened (a custom loop runs in full)."""
    return say(
        "{not_measured}: quick mode tests no model (it shortens only model.fit(), which your code does not "
        "call). Grade without --quick for the test accuracy and the verdict.",
        not_measured=not_measured(),
    )


def trial_fit_summary(*, module: bool, asked_epochs: int | None, last_loss: str | None) -> str:
    """What the trial fit showed, for the training check's message in quick mode."""
    who = _("train() ran a trial fit and returned its History") if module else _("model.fit() ran as a trial fit")
    asked = (
        say_n(" (your code asks for {count} epoch)", " (your code asks for {count} epochs)", asked_epochs)
        if asked_epochs
        else ""
    )
    loss = say(", loss {loss}", loss=last_loss) if last_loss is not None else ""
    return say(
        "{who} without an error{asked}{loss}; whether the loss falls over the full training is measured by a "
        "full grading.",
        who=who,
        asked=asked,
        loss=loss,
    )


# --- watch mode -----------------------------------------------------------------------------------


def watch_change_new() -> str:
    return _("new")


def watch_change_status(status: str) -> str:
    return say("was {status}", status=status_word(status))


def watch_change_points(points: str) -> str:
    return say("was {points} points", points=points)


def run_kind(full: bool) -> str:
    return _("full grading") if full else _("quick preview")


def watch_trigger(trigger: str) -> str:
    """``started``, ``saved``, ``f pressed``: why this run happened."""
    words = {"started": N_("started"), "saved": N_("saved"), "f pressed": N_("f pressed")}
    return _(words[trigger]) if trigger in words else trigger


def watch_title(name: str, kind: str, trigger: str, when: str, seconds: str) -> str:
    return say(
        "{name} · {kind} · {trigger} at {when} · {seconds} s",
        name=name,
        kind=kind,
        trigger=trigger,
        when=when,
        seconds=seconds,
    )


def watch_preview_line(score: str, measured: str) -> str:
    return say(
        "Preview: {score} of the {measured} points quick mode checks (test accuracy not measured).",
        score=score,
        measured=measured,
    )


def watch_full_line(score: str, max_score: str, accuracy: str | None, verdict: str) -> str:
    if accuracy is not None:
        return say(
            "Full grading: {score} / {max_score}, test accuracy {accuracy}: {verdict}",
            score=score,
            max_score=max_score,
            accuracy=accuracy,
            verdict=verdict,
        )
    return say("Full grading: {score} / {max_score}: {verdict}", score=score, max_score=max_score, verdict=verdict)


def watch_quiz(exercise: str) -> str:
    return say("{exercise} is a quiz: grade its answers file without --watch.", exercise=exercise)


def watch_not_a_file(path: str) -> str:
    return say("{path} is not a file to watch; give the path of your solution.", path=path)


def watch_cannot_grade(problem: str) -> str:
    return say("Cannot grade this version: {problem}", problem=problem)


def watch_grader_failed() -> str:
    return _("The grader itself failed (a bug in the grader, not in your code):")


def watch_help(name: str) -> str:
    return say("Watching {name}: save it to grade again; press f for a full grading, Ctrl-C to stop.", name=name)


def watch_stopped(name: str, runs: int) -> str:
    return say_n(
        "Stopped watching {name} after {count} grading.",
        "Stopped watching {name} after {count} gradings.",
        runs,
        name=name,
    )


# --- the reports (their templates hold the rest: templates/*.j2) ----------------------------------

SETTING_WORDS: Mapping[str, str] = {"optimizer": N_("optimizer"), "loss": N_("loss"), "metrics": N_("metrics")}


def setting_word(key: str) -> str:
    """A compile setting's name in "Compiled with optimizer Adam; loss ...": the book's term."""
    word = SETTING_WORDS.get(key)
    return _(word) if word else key


def stopped_by_limit(limit: str) -> str:
    return say("Your code was stopped by the grader's {limit} limit.", limit=limit)


def no_history_train_raised() -> str:
    return _("train() raised an error before it returned (see the error above).")


def no_history_after_error() -> str:
    return _("training did not run because of the error above.")


def no_history_returned() -> str:
    return _("train() did not return the History that model.fit(...) returns.")


def figure_not_drawn(problem: str) -> str:
    return say("the figure could not be drawn ({problem})", problem=problem)


def figures_not_drawn(problem: str) -> str:
    return say("the figures could not be drawn ({problem})", problem=problem)


def test_images_not_drawn() -> str:
    return _("the test images could not be drawn")


def no_dataset_named() -> str:
    return _("the result does not name its dataset")


def test_images_unavailable(dataset: str, problem: str) -> str:
    return say("the {dataset} test images are not available here ({problem})", dataset=dataset, problem=problem)


def test_images_unreadable(problem: str) -> str:
    return say("the test images could not be read ({problem})", problem=problem)


def with_learning_rate(name: str, rate: str) -> str:
    return say("{name} (learning rate {rate})", name=name, rate=rate)


def lines_left_out(count: str) -> str:
    return say("{count} lines left out", count=count)


def figure_accuracy() -> str:
    return _("Accuracy")


def figure_loss() -> str:
    return _("Loss")


def figure_training() -> str:
    return _("training")


def figure_validation() -> str:
    return _("validation")


def figure_epoch() -> str:
    return _("epoch")


def figure_test_images() -> str:
    return _("test images")


def figure_predicted_class() -> str:
    return _("predicted class")


def figure_true_class() -> str:
    return _("true class")


# --- the batch: gradebook notes and the class summary -------------------------------------------
# (The gradebook's column names are machine-stable English ids in every language.)


def note_time_limit() -> str:
    return _("stopped at the time limit")


def note_not_passed(checks: str) -> str:
    return say("not passed: {checks}", checks=checks)


def note_below_pass_mark() -> str:
    return _("below the pass mark")


def note_integrity_failed() -> str:
    return _("integrity check failed")


def note_not_on_roster() -> str:
    return _("not on the roster")


def note_instructor(comment: str) -> str:
    return say("instructor: {comment}", comment=comment)


def note_separator() -> str:
    return _("; ")


def similarity_rule(shingle: int, threshold: str, minimum: int) -> str:
    return say(
        "Similarity is the Jaccard index of the sets of {shingle}-node runs of each submission's syntax tree "
        "(names and literals abstracted, runs also in the exercise's stub left out); pairs at {threshold} or "
        "above are listed (each needs {minimum} runs of its own).",
        shingle=shingle,
        threshold=threshold,
        minimum=minimum,
    )


# --- `grade --help` and argparse's own sentences ----------------------------------------------------

GRADE_HELP: Mapping[str, str] = {
    "description": N_("Grade an exercise solution. Other commands: grade list | init EXERCISE | data status|prepare"),
    "exercise": N_("exercise id (see `grade list`)"),
    "path": N_("your solution (default: ./<the stub's file name>)"),
    "--json": N_("also write the result as JSON"),
    "--data-dir": N_("folder with the dataset files"),
    "--seed": N_("random seed (default: the exercise's)"),
    "--style": N_("how your file is written (default: recognised from the file; see README)"),
    "--timeout": N_("wall-clock limit for your code"),
    "--sandbox": N_("isolation for your code: bubblewrap, or a plain process (default: bubblewrap when it works here)"),
    "--quiet": N_("no live progress display: plain lines"),
    "--report": N_("write report.html and report.md here (default: grade-reports/EXERCISE/ next to your solution)"),
    "--no-report": N_("do not write the HTML and Markdown reports"),
    "--quick": N_(
        "a preview in seconds: every check but the test accuracy, with a short trial fit; no verdict "
        "(exit code {code}; no report unless --report is given)"
    ),
    "--watch": N_("grade again (quick) each time the file is saved; press f for a full grading, Ctrl-C to stop"),
    "--full": N_("with --watch: full gradings on every save instead of quick ones"),
    "--retrain": N_(
        "for exams: also train the submitted architecture again from scratch with its own recipe, and fail the "
        "fair-run check if the submission beats it by clearly more than seeds explain (doubles the time)"
    ),
    "--lang": N_("language of the output (default: the locale, e.g. LANG=zh_CN.UTF-8)"),
}


def grade_help(option: str, **facts: object) -> str:
    """The ``grade`` command's help for ``option`` (``argparse`` escapes ``%`` itself)."""
    return say(GRADE_HELP[option], **facts)


BATCH_HELP: Mapping[str, str] = {
    "description": N_("Grade a class: one file or one folder per student."),
    "exercise": N_("exercise id (see `grade list`)"),
    "submissions": N_("folder with one file (alice.py, bob.ipynb, ...) or one folder per student"),
    "--out": N_("where the gradebook, reports and summary go"),
    "--jobs": N_("sandboxes at once; the cores are divided among them (default 1)"),
    "--executor": N_("run here (default) or on a Dask cluster"),
    "--scheduler": N_("the Dask scheduler, e.g. tcp://10.0.0.5:8786"),
    "--timeout": N_("wall-clock limit per submission (default: the exercise's)"),
    "--seed": N_("random seed (default: the exercise's)"),
    "--data-dir": N_("folder with the dataset files"),
    "--cache-dir": N_("results cached by content (default: OUT/cache)"),
    "--regrade": N_("grade every submission again (an interrupted regrade, run again, carries on)"),
    "--no-reports": N_("no per-student HTML/Markdown reports"),
    "--quiet": N_("no live progress bar: plain lines"),
    "--sandbox": N_("isolation (default: bubblewrap when it works)"),
    "--roster": N_("CSV of the class: an id column, optionally name, email, lms_user_id, sis_id, section"),
    "--only": N_("regrade just these students (the others keep their cached grades)"),
    "--due": N_("the due date and time, e.g. 2026-03-01T23:59 (with --late-penalty)"),
    "--late-penalty": N_("e.g. 10%%/day, 5/hour, 10%%/day,max=50%%,grace=15m"),
    "--export": N_("also write the grades in an LMS's import format (repeatable)"),
    "--assignment": N_("the assignment's name in the LMS (default: the exercise's title)"),
    "--course": N_("a course folder holding exercises/ and solutions/ (or GRADER_COURSE_DIR)"),
}
"""``grade batch --help`` (argparse's ``%`` escapes kept: ``%%`` shows as ``%``)."""

VALIDATE_HELP: Mapping[str, str] = {
    "description": N_(
        "Check that each reference solution passes with full marks, each stub fails, and each known-bad "
        "variant in solutions/<id>/bad/ fails exactly the checks its manifest names."
    ),
    "exercises": N_("exercise ids (default: all)"),
    "--junit": N_("also write JUnit XML for CI"),
    "--jobs": N_("cases graded at once (default 1)"),
    "--data-dir": N_("folder with the dataset files"),
    "--sandbox": N_("isolation (default: bubblewrap when it works)"),
    "--course": N_("a course folder holding exercises/ and solutions/ (or GRADER_COURSE_DIR)"),
    "--spec-only": N_("check every spec, stub and solution file statically, in seconds (no training)"),
}
"""``grade validate --help``."""


def batch_help(option: str) -> str:
    return _(BATCH_HELP[option])


def validate_help(option: str) -> str:
    return _(VALIDATE_HELP[option])


# Sentences Python's argparse writes (usage errors, --help headings), so that they read in the
# chosen language too; grader.cli routes argparse's gettext calls through argparse_text. They keep
# argparse's own %-placeholders.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
)


def argparse_text(message: str) -> str:
    return _(message)


# --- the datasets' class names, as a report shows them --------------------------------------------

CLASS_NAMES: Mapping[str, str] = {
    "T-shirt/top": N_("T-shirt/top"),
    "Trouser": N_("Trouser"),
    "Pullover": N_("Pullover"),
    "Dress": N_("Dress"),
    "Coat": N_("Coat"),
    "Sandal": N_("Sandal"),
    "Shirt": N_("Shirt"),
    "Sneaker": N_("Sneaker"),
    "Bag": N_("Bag"),
    "Ankle boot": N_("Ankle boot"),
}
"""Fashion-MNIST's classes (grader.datasets); MNIST's are digits and need no translation."""


def class_name(name: str) -> str:
    """A dataset class's name in the current language; any other name (a learner's, a digit)
    as it is."""
    known = CLASS_NAMES.get(name)
    return _(known) if known else name


# --- %grade in a notebook (grader.notebook_magic) ---------------------------------------------------


def hint_heading() -> str:
    return _("Hint:")


def magic_usage(problem: str) -> str:
    return say("%grade: {problem}. Usage: %grade EXERCISE [--quick]", problem=problem)


def magic_grading() -> str:
    return _("Grading… (in the sandbox, not in this kernel)")


def magic_grading_line(line: str) -> str:
    return say("Grading… {line}", line=line)


def magic_no_data_html(dataset: str, exercise: str) -> str:
    """HTML: ``dataset`` and ``exercise`` come escaped."""
    return say(
        "<b>The grader's {dataset} dataset is not installed here</b> (on Colab it never is at first). Get it "
        "with one line in a cell of its own, then run <code>%grade {exercise}</code> again:",
        dataset=dataset,
        exercise=exercise,
    )


def magic_not_graded() -> str:
    return _("Not graded:")


def magic_handed_in(description: str) -> str:
    return say("Handed to the grader: {description}.", description=description)


def magic_preview_html(score: str, measured: str, exercise: str) -> str:
    """HTML after the PREVIEW badge: ``exercise`` comes escaped."""
    return say(
        " (quick mode): {score} of the {measured} points quick mode checks; test accuracy not measured. "
        "Run <code>%grade {exercise}</code> without --quick for the verdict.",
        score=score,
        measured=measured,
        exercise=exercise,
    )


def magic_accuracy(accuracy: str) -> str:
    return say(", test accuracy {accuracy}", accuracy=accuracy)


def magic_score(score: str, max_score: str, accuracy: str, pass_mark: str) -> str:
    return say(
        ": {score} / {max_score}{accuracy} (pass mark {pass_mark})",
        score=score,
        max_score=max_score,
        accuracy=accuracy,
        pass_mark=pass_mark,
    )


def magic_saved_notebook(name: str, age: str | None = None) -> str:
    """Which code ``%grade`` graded: the saved notebook, and how old its saved copy is when that
    is over a minute (``age``: ``5 min``)."""
    if age is None:
        return say("the saved notebook {name}", name=name)
    return say("the saved notebook {name} (saved {age} ago: save it to grade your latest edits)", name=name, age=age)


def magic_executed_cells(count: int) -> str:
    return say_n(
        "the {count} cell executed so far in this notebook, in order",
        "the {count} cells executed so far in this notebook, in order",
        count,
    )


def minutes_text(minutes: str) -> str:
    return say("{minutes} min", minutes=minutes)


def hours_text(hours: str) -> str:
    return say("{hours} h", hours=hours)


def magic_open_report() -> str:
    return _("Open the full report")


def magic_graded(description: str, style: str, isolation: str, seconds: str) -> str:
    return say(
        "Graded: {description}; {style} submission, {isolation} isolation, {seconds} s.",
        description=description,
        style=style_word(style),
        isolation=isolation,
        seconds=seconds,
    )


# --- Gradescope's results.json (grader.render.gradescope) -------------------------------------------


def gradescope_submission_graded() -> str:
    return _("Submission graded")


def gradescope_not_graded(why: str) -> str:
    return say("This submission could not be graded: {why}", why=why)


def gradescope_verdict(verdict: str, score: str, max_score: str, pass_mark: str) -> str:
    return say(
        "{verdict}: {score} / {max_score} points (pass mark {pass_mark}).",
        verdict=verdict,
        score=score,
        max_score=max_score,
        pass_mark=pass_mark,
    )


def gradescope_scaled(score: str, max_score: str, style: str) -> str:
    return say(
        "Scaled to the exercise's points: {score} of the {max_score} points that apply to a {style} submission "
        "(checks that cannot apply to it are left out).",
        score=score,
        max_score=max_score,
        style=style_word(style),
    )


def gradescope_accuracy(accuracy: str) -> str:
    return say("Test accuracy: {accuracy}.", accuracy=accuracy)


def gradescope_start_with(name: str, message: str) -> str:
    return say("Start with: {name}. {message}", name=name, message=message)


# --- check names for the other submission styles ----------------------------------------------------

STYLE_CHECK_NAMES = (
    N_("solution_model() defined and returns the trained model"),
    N_("solution_model() builds a Keras model"),
    N_("The model is compiled"),
    N_("model.fit trains the model"),
    N_("The model was trained on images scaled to [0, 1]"),
    N_("The code runs to the end and leaves its model"),
    N_("The code builds a Keras model"),
    N_("Functions (a saved model has none)"),
    N_("The file holds a Keras model"),
    N_("The model was saved compiled"),
    N_("Training (a saved model keeps no record of it)"),
)
"""grader.adapters.DEFAULT_CHECK_NAMES: the names a check takes for a script, a certificate-style
module or a saved model, translated where the spec's check is renamed (``style_check_name``)."""


def style_check_name(name: str) -> str:
    """A check's name for another submission style in the current language (a name the
    exercise gives in [styles.<style>.names] stays as written)."""
    return _(name)
