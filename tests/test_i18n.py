"""Feedback in Chinese (``--lang zh``): the interface catalogue, the specs' Chinese text, the
language choice on the command line, a Chinese report in a real browser, and a whole Chinese
grading of a failing submission.

The sentences of the judges and the sandbox have catalogues of their own (tests/test_messages.py
checks all of them); this module checks the interface: what the command line, the terminal, the
progress lines, the reports and the batch outputs say around those sentences.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from test_reports import model_result  # the hand-made results, shared

from grader.cli import main, take_language
from grader.errors import UsageError
from grader.messages import interface, use_language
from grader.render.report import render_reports
from grader.spec import exercises_root, list_exercises, load_exercise

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "grader" / "locale" / "zh" / "LC_MESSAGES" / "interface.po"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
FC_LIST = shutil.which("fc-list")

# --------------------------------------------------------------------------------------------
# What "reads as Chinese" means
# --------------------------------------------------------------------------------------------


def is_cjk(char: str) -> bool:
    """A Han character or CJK punctuation / full-width form (what a missing font shows as boxes)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x3000 <= code <= 0x303F  # CJK symbols and punctuation: 。、「」
        or 0xFF00 <= code <= 0xFFEF  # full-width forms: （），：；
        or 0x2E80 <= code <= 0x2FDF  # radicals
    )


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters (Latin letters and CJK characters) of ``text``."""
    cjk = sum(is_cjk(c) for c in text)
    latin = sum(c.isascii() and c.isalpha() for c in text)
    return cjk / (cjk + latin) if cjk + latin else 1.0


# Code, placeholders, options, numbers and paths a Chinese sentence keeps as they are: removed
# before looking for English words.
_KEPT_AS_IS = re.compile(
    r"`[^`]*`"  # code spans
    r"|\{\w*\}|%\(\w+\)[sr]"  # placeholders: the facts filled in
    r"|--[\w-]+|%grade"  # command-line options, the notebook magic
    r"|<[^>]+>"  # HTML tags
    r"|\b\w+\([^()]*\)"  # calls: build_model(), Dense(64, relu)
    r"|\w[\w-]*(?:[/_.=][\w-]*)+"  # paths, folders, file names, snake_case, dotted names, KEY=value
    r"|\b[A-Z]{2,}\b"  # metavariables and acronyms: EXERCISE, DIR, JSON, MNIST
    r"|\b\d[\d.,:%]*\b"  # numbers
)
NAMES = frozenset(
    {
        "Keras",
        "TensorFlow",
        "Adam",
        "SGD",
        "RMSprop",
        "Softmax",
        "softmax",
        "softMax",
        "ReLU",
        "relu",
        "sigmoid",
        "tanh",
        "Dense",
        "Flatten",
        "Sequential",
        "History",
        "Epoch",
        "epoch",
        "epochs",
        "Fashion",
        "MNIST",
        "Markdown",
        "NumPy",
        "Python",
        "Schema",
        "JUnit",
        "Jaccard",
        "Ctrl",
        "bubblewrap",
        "bwrap",
        "process",
        "module",
        "script",
        "notebook",
        "certificate",
        "none",
        "dask",
        "loss",
        "accuracy",
        "adam",
        "sgd",
        "argmax",
        "Param",
        "ValueError",
        "NotImplementedError",
        "True",
        "False",
        "None",
        "dense",
        "flatten",
        "Noto",
        "Colab",
        "Jupyter",
        "grade",
        "list",
        "init",
        "data",
        "status",
        "prepare",
        "batch",
        "validate",
        "gradescope",
        "spec",
    }
)
"""Names a Chinese text keeps in English: Keras' and the book's names, ids of the command line."""


def english_left(line: str) -> list[str] | None:
    """The English words left in ``line`` when it is a sentence (or a piece of one) in English:
    two English words, or one in a line without Chinese. None when the line reads as Chinese."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z']+", _KEPT_AS_IS.sub(" ", line)) if w not in NAMES]
    if len(words) >= 2 or (words and not any(map(is_cjk, line))):
        return words
    return None


def reads_as_chinese(text: str) -> bool:
    """No English left, and some Chinese."""
    return english_left(text) is None and any(map(is_cjk, text))


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


def _catalogue() -> Any:
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="zh")


def _source_ids() -> set[Any]:
    """The message ids the interface's code and templates use, extracted as Babel extracts them."""
    keywords = {"_": None, "N_": None, "say": None, "say_n": (1, 2), "ngettext": (1, 2)}
    method_map = [("grader/messages/interface.py", "python"), ("templates/**.j2", "jinja2")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map=options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_interface_message_has_a_chinese_translation() -> None:
    catalogue = _catalogue()
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = sorted(str(i) for i in _source_ids() if not translated.get(i))
    assert not missing, f"not in interface.po (or untranslated): {missing[:10]}"
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        names = set().union(*(re.findall(r"\{(\w*)\}", i) for i in ids))
        for string in strings:
            assert string, f"empty translation of {ids[0]!r}"
            assert set(re.findall(r"\{(\w*)\}", string)) == names, (ids[0], string)
            # argparse's own sentences keep its %-placeholders
            assert sorted(re.findall(r"%\(\w+\)[sr]|%[sr]", string)) == sorted(
                re.findall(r"%\(\w+\)[sr]|%[sr]", ids[0])
            ), (ids[0], string)


def test_the_catalogue_reads_as_chinese_and_uses_the_books_terms() -> None:
    """Sentences, not only words: every translation of a sentence is mostly Chinese, and the
    book's own terms are the ones used (准确率, not 精度, for accuracy; 损失函数, 优化器, epoch)."""
    catalogue = _catalogue()
    strings = {m.id: m.string for m in catalogue if m.id and isinstance(m.id, str)}
    for english, chinese in strings.items():
        if english_left(english):  # a sentence, not a name or a symbol
            assert reads_as_chinese(chinese), (english, chinese)
    assert strings["Test accuracy"] == "测试集准确率"
    assert strings["optimizer"] == "优化器" and strings["loss"] == "损失函数" and strings["metrics"] == "评估指标"
    assert "epoch" in strings["Epoch {epoch}/{epochs}"].lower()  # the book keeps "epoch"


# --------------------------------------------------------------------------------------------
# The specs' Chinese text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", [spec.id for spec in list_exercises()])
def test_every_spec_text_a_learner_reads_has_chinese(exercise: str) -> None:
    document = tomllib.loads((exercises_root() / exercise / "exercise.toml").read_text(encoding="utf-8"))
    assert document.get("zh", {}).get("title"), "[zh] title"
    for check in document.get("checks", []):
        zh = check.get("zh", {})
        assert zh.get("name"), f"[checks.zh] name of {check['id']}"
        if check.get("hint"):
            assert zh.get("hint"), f"[checks.zh] hint of {check['id']}"
    for item in document.get("items", []):
        zh = item.get("zh", {})
        for key in ("title", "prompt", "explanation", "hint"):
            if item.get(key):
                assert zh.get(key), f"[items.zh] {key} of {item['id']}"
        assert set(zh.get("choices", {})) == set(item.get("choices", {})), item["id"]
        assert set(zh.get("explanations", {})) == set(item.get("explanations", {})), item["id"]
        assert len(zh.get("wrong_answers", [])) == len(item.get("wrong_answers", [])), item["id"]
    with use_language("zh"):
        spec = load_exercise(exercise)
    texts = [spec.title, *(c.name for c in spec.checks), *(c.hint for c in spec.checks if c.hint)]
    for item in spec.items:
        texts += [item.title, item.prompt, *getattr(item, "choices", {}).values()]
        texts += [
            *getattr(item, "explanations", {}).values(),
            *(w.explanation for w in getattr(item, "wrong_answers", [])),
        ]
    for text in texts:
        assert reads_as_chinese(text), text
    assert (exercises_root() / exercise / "README.zh.md").is_file()


def test_a_translation_naming_a_choice_the_item_lacks_is_refused(tmp_path: Path) -> None:
    from grader.errors import SpecError
    from grader.spec import load_spec_file

    folder = tmp_path / "exercise1"
    folder.mkdir()
    source = (exercises_root() / "exercise1" / "exercise.toml").read_text(encoding="utf-8")
    spec_file = folder / "exercise.toml"
    spec_file.write_text(source.replace("[items.zh.choices]\na = ", "[items.zh.choices]\nz = ", 1), encoding="utf-8")
    with pytest.raises(SpecError, match=r"\[items.zh.choices\] of 'nonlinearity' \(line \d+\) names a choice 'z'"):
        load_spec_file(spec_file)


def test_english_specs_are_unchanged_by_the_chinese_tables() -> None:
    spec = load_exercise("exercise1")
    assert spec.title == "Chapter 5, question 1: What do activation functions do?"
    assert spec.items[0].choices["b"].startswith("Without it, stacked Dense layers")


# --------------------------------------------------------------------------------------------
# Choosing the language
# --------------------------------------------------------------------------------------------


def test_lang_is_taken_out_of_any_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    assert take_language(["batch", "ex", "subs", "--lang", "zh", "--out", "o"]) == (
        ["batch", "ex", "subs", "--out", "o"],
        "zh",
    )
    assert take_language(["--lang=zh_CN.UTF-8", "list"]) == (["list"], "zh")
    assert take_language(["list"]) == (["list"], "en")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert take_language(["list"]) == (["list"], "zh")
    with pytest.raises(UsageError, match="--lang xx: unknown language"):
        take_language(["list", "--lang", "xx"])
    with pytest.raises(UsageError, match="unknown language"):
        take_language(["list", "--lang"])


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    environment["PYTHONPATH"] = str(ROOT) + os.pathsep + environment.get("PYTHONPATH", "")
    environment.update(env or {"LANG": "C.UTF-8"})
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=600, env=environment, cwd=cwd
    )


def test_unknown_lang_is_one_line_and_exit_2() -> None:
    completed = run_cli("list", "--lang", "xx")
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.strip().splitlines() == ["error: --lang xx: unknown language; the grader speaks en, zh."]


def test_the_locale_chooses_chinese_without_lang(tmp_path: Path) -> None:
    solution = load_exercise("exercise2").solution_path
    chinese = run_cli("exercise2", str(solution), "--no-report", env={"LANG": "zh_CN.UTF-8"}, cwd=tmp_path)
    english = run_cli("exercise2", str(solution), "--no-report", cwd=tmp_path)
    assert chinese.returncode == english.returncode == 0, chinese.stderr + english.stderr
    assert "得分：15 / 15" in chinese.stdout and "通过" in chinese.stdout and "梯度的传播方向" in chinese.stdout
    assert "Score: 15 / 15" in english.stdout and "PASSED" in english.stdout
    assert not any(is_cjk(c) for c in english.stdout)
    # --lang wins over the locale
    forced = run_cli(
        "exercise2", str(solution), "--no-report", "--lang", "en", env={"LANG": "zh_CN.UTF-8"}, cwd=tmp_path
    )
    assert "Score: 15 / 15" in forced.stdout and not any(is_cjk(c) for c in forced.stdout)


def test_usage_errors_follow_the_language(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "zh", "fashion_mnist", "--timeout", "-1"]) == 2
    assert capfd.readouterr().err.strip() == "错误： --timeout 必须是正数（秒）。"
    assert main(["--lang", "zh", "fashion_mnist", "--bogus"]) == 2
    assert capfd.readouterr().err.strip() == "错误： 无法识别的参数：--bogus（参见 `grade --help`）"
    assert main(["fashion_mnist", "--bogus"]) == 2
    assert capfd.readouterr().err.strip() == "error: unrecognized arguments: --bogus (see `grade --help`)"


def test_init_of_a_quiz_in_chinese_writes_the_questions_in_chinese(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "exercise3", "--dir", str(tmp_path), "--lang", "zh"]) == 0
    out = capfd.readouterr().out
    assert "README.zh.md" in out
    stub = (tmp_path / "exercise3_answers.toml").read_text(encoding="utf-8")
    assert "Flatten 输入层的作用" in stub and "它把每张 28x28 的图像展平" in stub
    assert set(tomllib.loads(stub)) == {item.id for item in load_exercise("exercise3").items}


# --------------------------------------------------------------------------------------------
# Renderers in Chinese (no TensorFlow)
# --------------------------------------------------------------------------------------------


def _prose_lines(markdown: str) -> list[str]:
    """The Markdown report's sentences: fenced blocks (code, output, tracebacks) and numeric table
    rows left out."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or not line.strip() or set(line.strip()) <= set("|-: "):
            continue
        lines.append(re.sub(r"\\(.)", r"\1", line))  # as it reads: without Markdown's escapes
    return lines


def test_markdown_and_html_reports_in_chinese(tmp_path: Path) -> None:
    result = model_result()  # a failing result; its checks' messages are hand-written English
    with use_language("zh"):
        files = render_reports(result, tmp_path)
    html = files["html"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "Noto Sans CJK SC" in html  # the font stack has a CJK font
    assert "评分报告" in html and "测试集准确率" in html and "未通过" in html
    markdown = files["md"].read_text(encoding="utf-8")
    own = [
        line
        for line in _prose_lines(markdown)
        if not any(check.message and check.message[:20] in line for check in result.checks)
    ]
    left = [(line, english_left(line)) for line in own if english_left(line)]
    # Only the hand-made checks' English names and hints are left (the judges write those).
    names = {check.name for check in result.checks} | {check.hint for check in result.checks}
    assert [line for line, _ in left if not any(name and name in line for name in names)] == []
    with use_language("en"):
        english = render_reports(result, tmp_path / "en")
    assert '<html lang="en">' in english["html"].read_text(encoding="utf-8")
    assert not any(is_cjk(c) for c in english["md"].read_text(encoding="utf-8"))


def test_terminal_and_progress_in_chinese() -> None:
    from rich.console import Console

    from grader.render.progress import ProgressState
    from grader.render.terminal import render_terminal

    console = Console(record=True, width=120)
    with use_language("zh"):
        render_terminal(model_result(), console)
        state = ProgressState()
        lines = [
            *state.apply({"event": "stage", "stage": "train"}),
            *state.apply({"event": "fit", "epochs": 5}),
            *state.apply({"event": "epoch", "epoch": 1, "epochs": 5, "logs": {"loss": 0.5}}),
        ]
        description = state.description
    text = console.export_text()
    assert "测试集准确率" in text and "得分：25 / 100" in text and "未通过" in text and "状态" in text
    assert lines == ["正在运行 train()", "Epoch 1/5：损失 0.5000"]  # the book's 损失; epoch stays
    assert description == "正在训练"


def test_batch_outputs_follow_the_language_but_csv_columns_stay() -> None:
    from grader.batch.gradebook import gradebook_columns

    spec = load_exercise("fashion_mnist")
    with use_language("zh"):
        columns_zh = gradebook_columns(spec)
        note = interface.note_not_passed("loss")
    assert columns_zh == gradebook_columns(spec)  # machine-stable ids in every language
    assert note == "未通过：loss"


# --------------------------------------------------------------------------------------------
# (a) A Chinese report in headless Chromium: every CJK character has a glyph
# --------------------------------------------------------------------------------------------


def font_coverage(family: str) -> set[int]:
    """The code points fontconfig says ``family`` covers (all its styles together)."""
    assert FC_LIST is not None
    listing = subprocess.run(
        [FC_LIST, "--format", "%{charset}\n", f":family={family}"], capture_output=True, text=True, check=True
    ).stdout
    covered: set[int] = set()
    for token in listing.split():
        start, _, end = token.partition("-")
        covered.update(range(int(start, 16), int(end or start, 16) + 1))
    return covered


# Elements whose own text (their child text nodes) holds CJK, with that text; marked so the
# DevTools protocol can ask which fonts drew each of them.
MARK_CJK_ELEMENTS = r"""
(() => {
  const cjk = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]/;
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const own = [...element.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('');
    if (cjk.test(own) && element.getClientRects().length) {
      element.setAttribute('data-cjk', String(found.length));
      found.push(own);
    }
  }
  return found;
})()
"""


def missing_glyphs(browser: Any, html: Path) -> tuple[list[str], set[str]]:
    """Render ``html`` and return, per element with Chinese text, the characters none of the
    fonts Chromium drew it with covers, and the families Chromium used for Chinese text."""
    from test_browser import DESKTOP

    page = browser.open(html, DESKTOP)
    texts = page.evaluate(MARK_CJK_ELEMENTS)
    assert texts, "the page shows no Chinese text at all"
    page.send("DOM.enable")
    page.send("CSS.enable")
    root = page.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = page.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-cjk]"})["nodeIds"]
    assert len(nodes) == len(texts)
    coverage: dict[str, set[int]] = {}
    problems: list[str] = []
    families: set[str] = set()
    for node in nodes:
        attributes = page.send("DOM.getAttributes", {"nodeId": node})["attributes"]  # [name, value, ...]
        index = int(attributes[attributes.index("data-cjk") + 1])
        fonts = page.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        used = {font["familyName"] for font in fonts}
        families |= used
        covered = set().union(*(coverage.setdefault(f, font_coverage(f)) for f in used)) if used else set()
        lacking = sorted({c for c in texts[index] if is_cjk(c) and ord(c) not in covered})
        if lacking:
            problems.append(f"{texts[index][:30]!r} drawn with {sorted(used)} lacks {''.join(lacking[:10])}")
    return problems, families


@pytest.fixture(scope="module")
def browser() -> Any:
    if CHROMIUM is None or FC_LIST is None:
        pytest.skip("Chromium and fontconfig are installed by scripts/setup.sh --dev")
    from test_browser import Chromium

    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


def _zh_report(tmp_path: Path) -> Path:
    with use_language("zh"):
        return render_reports(model_result(), tmp_path)["html"]


def test_chinese_report_has_a_glyph_for_every_character(browser: Any, tmp_path: Path) -> None:
    html = _zh_report(tmp_path)
    problems, families = missing_glyphs(browser, html)
    assert problems == [], problems
    assert any("CJK" in family for family in families), families


@pytest.mark.integration  # a browser, as the other Chromium tests
def test_the_glyph_check_fails_without_a_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check, with Chromium given only the fonts that have no Chinese: it must find the
    missing glyphs, or it could not have found them above either."""
    if CHROMIUM is None or FC_LIST is None:
        pytest.skip("Chromium and fontconfig are installed by scripts/setup.sh --dev")
    from test_browser import Chromium

    files = subprocess.run(
        [FC_LIST, "--format", "%{file}\n"], capture_output=True, text=True, check=True
    ).stdout.split()
    chinese = set(
        subprocess.run(
            [FC_LIST, "--format", "%{file}\n", ":charset=4e2d"], capture_output=True, text=True
        ).stdout.split()
    )
    folders = sorted({str(Path(f).parent) for f in files} - {str(Path(f).parent) for f in chinese})
    config = tmp_path / "fonts.conf"
    config.write_text(
        "<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
        + "".join(f"<dir>{folder}</dir>" for folder in folders)
        + f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    html = _zh_report(tmp_path)
    chromium = Chromium(CHROMIUM)
    try:
        problems, _families = missing_glyphs(chromium, html)
    finally:
        chromium.close()
    assert problems, "without a CJK font the check must report missing glyphs"


# --------------------------------------------------------------------------------------------
# (b) A whole Chinese grading of a failing submission, on the tiny datasets
# --------------------------------------------------------------------------------------------


def test_a_failing_grading_reads_as_chinese_end_to_end(tiny_data_dir: Path, tmp_path: Path) -> None:
    source = load_exercise("fashion_mnist").solution_path.read_text(encoding="utf-8")
    assert "Dense(64" in source and '"adam"' in source
    submission = tmp_path / "fashion_mnist.py"
    # Wrong hidden layer and optimizer; trains without an error (no Keras text to keep).
    submission.write_text(source.replace("Dense(64", "Dense(16").replace('"adam"', '"sgd"'), encoding="utf-8")
    reports = tmp_path / "reports"
    completed = run_cli(
        "fashion_mnist", str(submission), "--json", str(tmp_path / "r.json"), "--report", str(reports),
        "--quiet", "--timeout", "300", env={"LANG": "C.UTF-8", "LANGUAGE": "zh_CN:en", "COLUMNS": "200"}, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 1, completed.stdout + completed.stderr
    terminal = completed.stdout + completed.stderr
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    markdown = (reports / "report.md").read_text(encoding="utf-8")

    texts = {
        "terminal": [line for line in terminal.splitlines() if line.strip()],
        "json": [t for c in result["checks"] for t in (c["name"], c["message"], c["hint"]) if t],
        "report.md": _prose_lines(markdown),
    }
    for where, lines in texts.items():
        prose = list(lines)
        english = [(line, english_left(line)) for line in prose if english_left(line)]
        assert english == [], f"{where}: English left: {english[:5]}"
        share = cjk_share(_KEPT_AS_IS.sub(" ", " ".join(prose)))
        assert share > 0.7, f"{where}: only {share:.0%} Chinese"
    assert "未通过" in terminal and "隐藏层" in terminal
    assert '<html lang="zh-CN">' in (reports / "report.html").read_text(encoding="utf-8")


def test_notebook_magic_and_gradescope_output_in_chinese(tmp_path: Path) -> None:
    from grader.notebook_magic import GradeOutcome, NotebookSource, grade_command, magic_parser, outcome_html
    from grader.render.gradescope import gradescope_results

    result = {
        "exercise": "fashion_mnist", "mode": "full", "passed": False, "score": 55, "max_score": 100, "pass_mark": 80,
        "style": "module", "isolation": "bwrap", "elapsed_s": 4.2, "metrics": {"test_accuracy": 0.61},
        "checks": [{"id": "loss", "name": "损失函数：稀疏分类交叉熵", "status": "failed", "score": 0, "max_score": 10,
                    "message": "损失函数是 binary_crossentropy。", "hint": "使用 sparse_categorical_crossentropy。"}],
        "details": {},
    }  # fmt: skip
    (tmp_path / "report.html").write_text("<html></html>", encoding="utf-8")
    with use_language("zh"):
        page = outcome_html(GradeOutcome(1, result, ""), NotebookSource(tmp_path / "n.ipynb", "n.ipynb"), tmp_path)
        summary = gradescope_results(model_result())["output"]
    assert "未通过" in page and "测试集准确率 0.6100" in page and "提示：" in page and "打开完整报告" in page
    assert "NOT PASSED" not in page and "Open the full report" not in page
    assert summary.startswith("未通过：25 / 100 分（及格线 80）。")
    args = magic_parser().parse_args(["fashion_mnist", "--lang", "zh"])
    assert grade_command(args, Path("n.py"), tmp_path, tmp_path / "r.json")[-2:] == ["--lang", "zh"]


def test_check_names_of_the_other_styles_are_chinese_too() -> None:
    from grader.adapters import spec_for_style

    for style in ("script", "certificate", "saved_model"):
        with use_language("zh"):
            names = [check.name for check in spec_for_style(load_exercise("exercise4"), style).checks]
        assert all(reads_as_chinese(name) for name in names), (style, names)


def test_batch_progress_lines_stages_and_style_words_in_chinese() -> None:
    import io

    from rich.console import Console

    from grader.batch.progress import BatchProgress
    from grader.render.progress import stage_text

    def start_line(language: str) -> str:
        buffer = io.StringIO()
        with use_language(language):
            BatchProgress(Console(file=buffer, width=200), live=False).start(
                0, students=3, cached=1, problems=1, executor=interface.local_jobs(2)
            )
        return buffer.getvalue().strip()

    assert (
        start_line("en")
        == "3 students, 1 already graded (cached), 1 without a gradable submission, 0 to grade on 2 local jobs."
    )
    assert reads_as_chinese(start_line("zh")) and "3 名学生" in start_line("zh")
    with use_language("zh"):
        # the child sends codes for what it runs; the parent words them
        assert [stage_text(code) for code in ("script", "notebook", "saved_model")] == [
            "正在运行你的脚本", "正在运行你的 notebook", "正在运行 keras.saving.load_model()"]  # fmt: skip
        facts = interface.run_facts("1.0", None, "1.0", "saved_model", "bwrap")
        assert "保存的模型形式的提交" in facts and "saved_model" not in facts
    with use_language("en"):
        assert "saved_model submission" in interface.run_facts("1.0", None, "1.0", "saved_model", "bwrap")


def test_quiz_stub_answer_errors_and_validate_outcomes_in_chinese(tmp_path: Path) -> None:
    from grader.quiz import AnswersFileError, read_answers, render_answers_stub, validate_quiz_spec
    from grader.validate import ValidationCase

    quiz = next(spec for spec in list_exercises() if spec.kind == "quiz")
    with use_language("zh"):
        stub = render_answers_stub(quiz)
    framing = [line for line in stub.splitlines()[3:12] if line.strip("# ")]
    assert all(reads_as_chinese(line) for line in framing if "name =" not in line), framing
    assert stub != render_answers_stub(quiz)  # English by default, as the committed stub
    numeric = next(item for item in validate_quiz_spec(quiz) if item.type == "numeric")
    answers = tmp_path / "answers.toml"
    answers.write_text(f'{numeric.id} = "many"\n', encoding="utf-8")
    with use_language("zh"), pytest.raises(AnswersFileError) as raised:
        read_answers(answers, validate_quiz_spec(quiz))
    assert "需要一个数字" in str(raised.value) and "takes a number" not in str(raised.value)
    with use_language("zh"):
        title = ValidationCase(quiz, "stub", tmp_path / "stub.toml").title
    assert reads_as_chinese(title), title
