"""What a learner who reads only Chinese sees, word for word: nothing cut off on an 80-column
terminal, no capital letters forced on names, no stray spaces where a fact meets Chinese text,
no English words left around the facts, and written quiz answers in Chinese recognised.

All pure: hand-made results and evidence, the shipped specs and catalogues; no TensorFlow.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from rich.console import Console
from test_judges import EX4, judge, make_evidence, mnist_data
from test_quiz import check, grade_with

from grader.evidence import ArrayInfo
from grader.judges.vocabulary import sentence_case
from grader.messages import interface, say, use_language
from grader.messages import judges as judge_messages
from grader.render.progress import format_logs
from grader.render.terminal import render_terminal
from grader.result import CheckResult, GradeResult

# --------------------------------------------------------------------------------------------
# The terminal: every word of a message and its hint, at any width
# --------------------------------------------------------------------------------------------

ZH_MESSAGE = (
    "损失函数是 SparseCategoricalCrossentropy()，但标签是独热标签（形状 [32, 10]），"
    "而 sparse_categorical_crossentropy 需要整数标签。"
)
ZH_HINT = '独热标签请使用 loss="categorical_crossentropy"（或保留损失函数，把标签改成整数 0-9）。'
EN_MESSAGE = (
    "The loss is SparseCategoricalCrossentropy(), but the labels are one-hot (shape [32, 10]) and "
    "sparse_categorical_crossentropy needs integer labels."
)
EN_HINT = 'For one-hot labels use loss="categorical_crossentropy" (or keep the loss and make the labels integers 0-9).'


def _result(name: str, message: str, hint: str) -> GradeResult:
    return GradeResult(
        exercise="exercise4",
        submission="a_functional_onehot.py",
        passed=False,
        score=0.0,
        max_score=5.0,
        pass_mark=4.0,
        seed=42,
        grader_version="0.1.0",
        elapsed_s=1.0,
        checks=[CheckResult("loss", name, "failed", 0, 5, message, hint)],
        metrics={"test_accuracy": 0.5},
    )


def _column(text: str, index: int) -> str:
    """One column of a rendered table, its lines joined, without spaces (folded text may break
    anywhere): what a reader reads down that column."""
    cells = [line.split("│")[index] for line in text.splitlines() if line.count("│") == 5]
    return re.sub(r"\s+", "", "".join(cells))


@pytest.mark.parametrize("width", [80, 60, 120])
@pytest.mark.parametrize(
    ("language", "name", "message", "hint"),
    [
        ("zh", "损失函数：与标签的编码方式相符", ZH_MESSAGE, ZH_HINT),
        ("en", "Loss: matches how the labels are encoded", EN_MESSAGE, EN_HINT),
    ],
)
def test_terminal_shows_every_word_of_message_and_hint(
    language: str, name: str, message: str, hint: str, width: int
) -> None:
    console = Console(record=True, width=width, force_terminal=False)
    with use_language(language):
        render_terminal(_result(name, message, hint), console)
    text = console.export_text()
    assert "…" not in text
    details = _column(text, 4)
    for sentence in (message, hint):
        assert re.sub(r"\s+", "", sentence) in details
    assert re.sub(r"\s+", "", name) in _column(text, 2)


# --------------------------------------------------------------------------------------------
# Names keep their spelling; facts meet Chinese text without stray spaces
# --------------------------------------------------------------------------------------------


def test_a_name_at_the_start_of_a_sentence_keeps_its_spelling() -> None:
    assert sentence_case("the model in h.keras") == "The model in h.keras"
    assert sentence_case("solution_model() returned nothing") == "solution_model() returned nothing"
    assert sentence_case("h.keras holds it") == "h.keras holds it"
    with use_language("zh"):
        assert sentence_case("solution_model() 返回的模型") == "solution_model() 返回的模型"
        assert sentence_case("h.keras 中的模型") == "h.keras 中的模型"
        assert judge_messages.fixes(['loss="categorical_crossentropy"']).startswith("loss=")
    assert judge_messages.fixes(["divide the images by 255.0"]) == "Divide the images by 255.0."


def test_facts_meet_chinese_text_without_stray_spaces() -> None:
    with use_language("zh"):
        assert judge_messages.source_is("solution_model() 返回的模型", "一个 Sequential 模型") == (
            "solution_model() 返回的模型是一个 Sequential 模型。"
        )
        assert judge_messages.source_not_a_model("变量 `model` 里的模型", "None").startswith(
            "变量 `model` 里的模型是 None"
        )
        raised = say("{function} raised {exception}: {text}", function="你的脚本", exception="ValueError", text="x")
        assert raised == "你的脚本抛出了 ValueError：x"
        assert say("{function} raised {exception}: {text}", function="train()", exception="E", text="x").startswith(
            "train() 抛出了"
        )
        # a name filled in beside Chinese gets the space the catalogue writes elsewhere
        source = say("the model in your {kind}'s variable `{variable}`", kind="notebook", variable="model")
        assert source == "你的 notebook 中变量 `model` 里的模型"
        facts = interface.run_facts("1.0", None, "1.0", "module", "process")
        assert "模块形式的提交" in facts and "进程隔离" in facts
        assert interface.not_measured_because("train() 运行了试训练").startswith("快速模式下未测量：")
        assert judge_messages.location("d_notebook.ipynb, cell 5", 2) == "d_notebook.ipynb 第 5 个单元格第 2 行"
    assert judge_messages.location("d_notebook.ipynb, cell 5", 2) == "d_notebook.ipynb, cell 5, line 2"
    assert judge_messages.location("exercise4.py", 2) == "exercise4.py, line 2"


def test_uint8_images_are_told_to_divide_by_255_once() -> None:
    data = mnist_data(
        train_images=ArrayInfo([50000, 28, 28], "uint8", 0.0, 255.0),
        test_images=ArrayInfo([10000, 28, 28], "uint8", 0.0, 255.0),
    )
    for language in ("en", "zh"):
        with use_language(language):
            verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
        assert verdict.hint.count("255.0") == 1, verdict.hint


# --------------------------------------------------------------------------------------------
# No English words around the facts in Chinese
# --------------------------------------------------------------------------------------------


def test_quiz_footer_progress_lines_and_labels_in_chinese() -> None:
    with use_language("zh"):
        footer = interface.run_facts("0.0", None, "1.0", "quiz", "none")
        logs = format_logs({"loss": 2.0086, "accuracy": 0.3373, "val_loss": 2.5})
        labels = [interface.data_source("/data", label) for label in ("grader cache", "system dataset folder")]
        valid = interface.spec_valid("model", 12, "100", "80")
        parses = interface.file_parses("build_model(), train()")
    assert "none" not in footer and "未运行代码" in footer
    assert logs == "损失 2.0086，准确率 0.3373，验证集损失 2.5000"
    assert labels == ["/data（评分程序缓存）", "/data（系统数据集文件夹）"]
    assert (
        valid == "有效（12 个检查项，满分 100 分，及格线 80）" and parses == "可以解析，并定义了 build_model(), train()"
    )
    with use_language("en"):
        assert interface.run_facts("0.0", None, "1.0", "module", "bwrap").endswith("module submission, bwrap isolation")
        assert format_logs({"loss": 2.0086, "accuracy": 0.3373}) == "loss 2.0086, accuracy 0.3373"
        assert interface.data_source("/data", "grader cache") == "/data (grader cache)"
        assert interface.spec_valid("quiz", 7, "13", "9") == "valid (7 items, 13 points, pass mark 9)"


def test_batch_discovery_problems_and_overrides_template_in_chinese() -> None:
    several = ("erin/", "answers.toml, other.toml", "exercise1_answers.toml")
    assert interface.batch_several_submissions(*several) == (
        "erin/ holds several possible submissions (answers.toml, other.toml); "
        "rename the one to grade to exercise1_answers.toml."
    )
    with use_language("zh"):
        assert interface.batch_several_submissions(*several) == (
            "erin/ 中有多个可能的提交（answers.toml, other.toml）：请把要评分的那个重命名为 exercise1_answers.toml。"
        )
        assert interface.batch_no_submission("hank/", ".py, .ipynb", "exercise4.py").startswith("hank/ 中没有提交文件")
        assert interface.batch_not_a_folder("/nonexist").startswith("/nonexist 不是文件夹")
        template = interface.overrides_template()
    assert "Instructor" not in template and "教师" in template
    # the same TOML as in English once uncommented: only the comments are translated
    uncommented = re.sub(r"^# (?=\[|[a-z_]+ = )", "", template, flags=re.M)
    overrides = tomllib.loads(uncommented)["students"]["alice"]
    assert overrides["total"] == 95 and overrides["waive_late"] is True and overrides["checks"] == {"training": 10}


# --------------------------------------------------------------------------------------------
# Written quiz answers in Chinese
# --------------------------------------------------------------------------------------------

FULL_CHINESE_ANSWER = (
    "激活函数对每个神经元的加权和进行非线性变换，得到神经元输出；没有它，多层网络只是一个线性变换。"
    "隐藏层使用 ReLU，它把负数变成 0，正数保持不变。输出层使用 Softmax，把 10 个输出变成概率，加起来等于 1。"
)


def test_a_complete_chinese_answer_mentions_every_key_idea(tmp_path: Path) -> None:
    with use_language("zh"):
        result = grade_with(tmp_path, "exercise1", explain_activation=FULL_CHINESE_ANSWER)
    text = check(result, "explain_activation")
    assert text.status == "skipped" and text.score == 0
    assert "6 个要点中的 6 个" in text.message
    assert "非线性" in text.message and "概率" in text.message and "nonlinear" not in text.message


def test_a_partial_chinese_answer_lists_the_missing_ideas_in_chinese(tmp_path: Path) -> None:
    with use_language("zh"):
        result = grade_with(tmp_path, "exercise1", explain_activation="激活函数引入非线性。")
        english = grade_with(
            tmp_path, "exercise1", explain_activation="It adds nonlinearity; softmax gives probabilities."
        )
    message = check(result, "explain_activation").message
    assert "6 个要点中的 1 个" in message
    missing = message.split("未提到：", 1)[1]
    assert "神经元输出" in missing and "负数" in missing and "probability" not in missing
    # an answer in English (or with the book's English names) still counts under --lang zh
    assert "6 个要点中的 3 个" in check(english, "explain_activation").message


def test_chinese_key_ideas_need_the_same_count_as_the_english_rubric(tmp_path: Path) -> None:
    from grader.errors import SpecError
    from grader.spec import load_spec_file

    source = Path(__file__).resolve().parents[1] / "exercises" / "exercise1" / "exercise.toml"
    folder = tmp_path / "exercise1"
    folder.mkdir()
    text = source.read_text(encoding="utf-8").replace('    ["概率"],\n', "", 1)
    (folder / "exercise.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="rubric"):
        load_spec_file(folder / "exercise.toml")
