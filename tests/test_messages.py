"""The one messages module (grader.messages) and its gettext catalogues.

For every catalogue in the repository (grader/locale/<lang>/LC_MESSAGES/<domain>.po, whatever its
domain: judges, sandbox, interface): it holds exactly the messages the code says (extracted in
memory with Babel, as `make translations` does), each one translated and confirmed (not fuzzy),
with the same {placeholders} as the English. Then real judges speak Chinese under
use_language("zh") and their old English sentences without it, and the language is read from
the locale as gettext reads it.
"""

from __future__ import annotations

import io
import re
import string
import threading
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from test_judges import FASHION, make_evidence, model_info, raised, with_compile

from grader import messages
from grader.evidence import EvaluationEvidence, ExceptionInfo, Frame, TrainInfo
from grader.judges import JUDGES
from grader.judges.causes import exception_cause
from grader.messages import (
    CATALOGUES,
    LOCALE_DIR,
    UnknownLanguage,
    current_language,
    language_from_environment,
    normalise_language,
    say,
    say_n,
    set_language,
    use_language,
)
from grader.messages import catalogues as tools
from grader.messages import judges as judge_messages

CJK = re.compile(r"[\u4e00-\u9fff]")

# Every catalogue present, in every translated language: (domain, language).
PRESENT = [
    (domain, language)
    for language in tools.TRANSLATED
    for domain in CATALOGUES
    if tools.po_path(domain, language).is_file()
]


@pytest.fixture(scope="module")
def code_messages() -> dict[str, dict[str | tuple[str, str], tools.Message]]:
    """Each domain's messages as the code says them (extracted once for the module)."""
    return {domain: tools.extract(domain) for domain in CATALOGUES}


def _catalogue(domain: str, language: str) -> Catalog:
    return tools.read_catalogue(tools.po_path(domain, language), language)


def _key(message_id: str | tuple[str, ...]) -> str:
    """How a catalogue looks a message up: its singular."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _entries(catalogue: Catalog) -> list[Message]:
    return [message for message in catalogue if message.id]


def placeholders(text: str) -> list[str]:
    """The replacement fields of a message, as written (``{count:,}``), in sorted order; literal
    braces (``{{``) are not fields. A message whose braces do not parse is compared by its raw
    ``{...}`` pieces."""
    try:
        fields = [
            "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            for _literal, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError:
        fields = re.findall(r"\{[^{}]*\}", text)
    return sorted(fields)


def test_the_catalogues_are_found() -> None:
    """The judges' catalogue at least is there, so the checks below check something."""
    assert ("judges", "zh") in PRESENT, f"no judges.po under {LOCALE_DIR}"


def test_every_domain_that_says_something_has_a_catalogue(code_messages: dict) -> None:
    missing = [
        str(tools.po_path(domain, language).relative_to(tools.SOURCE_ROOT))
        for language in tools.TRANSLATED
        for domain in CATALOGUES
        if code_messages[domain] and not tools.po_path(domain, language).is_file()
    ]
    assert not missing, f"run `make translations` and translate: {missing}"


@pytest.mark.parametrize(("domain", "language"), PRESENT)
def test_the_catalogue_holds_every_message_of_the_code(domain: str, language: str, code_messages: dict) -> None:
    catalogue = _catalogue(domain, language)
    missing = [
        f"{key!r} ({message.locations[0][0]}:{message.locations[0][1]})"
        for key, message in code_messages[domain].items()
        if catalogue.get(_key(key)) is None
    ]
    assert not missing, f"{domain}.po lacks these messages (run `make translations`):\n" + "\n".join(missing)


@pytest.mark.parametrize(("domain", "language"), PRESENT)
def test_the_catalogue_holds_nothing_the_code_no_longer_says(domain: str, language: str, code_messages: dict) -> None:
    said = {_key(key) for key in code_messages[domain]}
    stale = [message.id for message in _entries(_catalogue(domain, language)) if _key(message.id) not in said]
    assert not stale, f"{domain}.po has messages the code no longer says (run `make translations`): {stale}"


@pytest.mark.parametrize(("domain", "language"), PRESENT)
def test_every_message_is_translated_and_confirmed(domain: str, language: str, code_messages: dict) -> None:
    catalogue = _catalogue(domain, language)
    said = {_key(key) for key in code_messages[domain]}
    untranslated = []
    for message in _entries(catalogue):
        if _key(message.id) not in said:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(text.strip() for text in strings):
            untranslated.append(message.id)
    assert not untranslated, f"{domain}.po: not translated, or fuzzy: {untranslated}"


@pytest.mark.parametrize(("domain", "language"), PRESENT)
def test_placeholders_are_the_same_in_every_language(domain: str, language: str) -> None:
    """A translation fills in exactly the facts the English does, in the same format: a missing
    one loses a fact, an extra or misspelt one crashes the sentence (KeyError) in that language."""
    wrong = []
    for message in _entries(_catalogue(domain, language)):
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:  # plural: every form of the language says what the English plural says
            pairs = [(message.id[1], form) for form in message.string]
        for english, translated in pairs:
            if translated and placeholders(english) != placeholders(translated):
                wrong.append(f"{english!r}: {placeholders(english)} -> {translated!r}: {placeholders(translated)}")
    assert not wrong, f"{domain}.po:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", sorted({language for _domain, language in PRESENT}))
def test_a_message_in_two_catalogues_says_the_same_in_both(language: str) -> None:
    """The catalogues are merged into one lookup, where one of them wins: a message id two
    modules share must mean the same in both, or one module would speak with the other's words."""
    seen: dict[str, tuple[str, object]] = {}
    different = []
    for domain in CATALOGUES:
        if not tools.po_path(domain, language).is_file():
            continue
        for message in _entries(_catalogue(domain, language)):
            key = _key(message.id)
            if key in seen and seen[key][1] != message.string:
                different.append(f"{key!r}: {seen[key][0]} {seen[key][1]!r}, {domain} {message.string!r}")
            seen.setdefault(key, (domain, message.string))
    assert not different, "\n".join(different)


@pytest.mark.parametrize(("domain", "language"), PRESENT)
def test_the_catalogue_compiles_to_what_gettext_reads(domain: str, language: str) -> None:
    catalogue = _catalogue(domain, language)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    compiled = GNUTranslations(buffer)
    for message in _entries(catalogue):
        if isinstance(message.id, str) and message.string and not message.fuzzy:
            assert compiled.gettext(message.id) == message.string


def test_chinese_uses_the_books_terms() -> None:
    """The glossary's words, where the English names the idea (a few that learners meet most)."""
    terms = {
        "activation function": "激活函数",
        "loss": "损失函数",
        "optimizer": "优化器",
        "one-hot labels": "独热标签",
    }
    with use_language("zh"):
        for english, chinese in terms.items():
            assert messages._(english) == chinese


# --- real judges, in both languages ------------------------------------------------------------


def _low_accuracy() -> object:
    evaluation = EvaluationEvidence(status="ok", test_accuracy=0.8, n_test=10000, input_scaling="unit")
    return make_evidence(evaluation=evaluation)


CASES = {
    # judge, evidence, the English sentence the judge gave before the messages moved
    "binary loss": (
        "loss",
        lambda: with_compile(loss="binary_crossentropy"),
        "The loss is binary_crossentropy, which is for two classes, not 10.",
    ),
    "no metrics": (
        "accuracy_metric",
        lambda: with_compile(metrics=[]),
        "The model is compiled without metrics, so training reports no accuracy.",
    ),
    "loss rose": (
        "training",
        lambda: make_evidence(
            train=TrainInfo(
                returned_type="keras.src.callbacks.history.History",
                is_history=True,
                history={"loss": [0.5, 0.9, 1.4], "accuracy": [0.8, 0.7, 0.6]},
                epochs_run=3,
            )
        ),
        "train() ran 3 epochs, but the training loss rose from 0.5 to 1.4.",
    ),
    "model built": (
        "model_built",
        lambda: make_evidence(model=model_info()),
        "build_model() returned a Sequential model with 3 layers, 50,890 parameters.",
    ),
    "not compiled": (
        "compiled",
        lambda: make_evidence(model=model_info(compiled=False), trained=model_info(compiled=False)),
        "The model is never compiled, so Keras cannot train it.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_judge_speaks_english_by_default_and_chinese_when_asked(case: str) -> None:
    name, evidence, english = CASES[case]
    params = dict(next((c.params for c in FASHION.checks if c.judge == name), {}))
    assert JUDGES[name](evidence(), params, FASHION).message == english
    with use_language("zh"):
        chinese = JUDGES[name](evidence(), params, FASHION)
    assert CJK.search(chinese.message), chinese.message
    assert current_language() == "en"


def test_a_hint_and_its_message_are_chinese_together() -> None:
    params = dict(next(c.params for c in FASHION.checks if c.judge == "test_accuracy"))
    english = JUDGES["test_accuracy"](_low_accuracy(), params, FASHION)  # type: ignore[arg-type]
    assert english.message.startswith("Test accuracy 0.8000 on the 10,000 test images, below the")
    with use_language("zh"):
        verdict = JUDGES["test_accuracy"](_low_accuracy(), params, FASHION)  # type: ignore[arg-type]
    assert "0.8000" in verdict.message and "10,000" in verdict.message
    assert CJK.search(verdict.message) and CJK.search(verdict.hint)


def test_keras_own_text_stays_as_keras_wrote_it() -> None:
    """The explanation is translated; the exception's type, message and place are facts."""
    keras_text = (
        'Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to have value 784'
    )
    step = raised("build_model", "ValueError", keras_text, line=9, file="fashion_mnist.py")
    evidence = make_evidence(steps={"import": step, "build_model": step})
    assert step.exception is not None
    with use_language("zh"):
        cause = exception_cause("build_model", step.exception, evidence, FASHION)
    assert keras_text in cause.message and "ValueError" in cause.message and "fashion_mnist.py" in cause.message
    assert CJK.search(cause.message) and CJK.search(cause.hint)


def test_a_learners_names_are_never_translated() -> None:
    exc = ExceptionInfo(
        type="NameError",
        message="name 'loss' is not defined",
        frames=[Frame(file="x.py", line=3, function="f", code="")],
    )
    from grader.judges.diagnose import diagnose_exception

    with use_language("zh"):
        diagnosis = diagnose_exception(exc)
    assert diagnosis is not None and '"loss"' in diagnosis.hint and "损失函数" not in diagnosis.hint


def test_a_plural_chooses_its_form_in_english_and_has_one_in_chinese() -> None:
    assert judge_messages.epochs(1) == "1 epoch"
    assert judge_messages.epochs(5) == "5 epochs"
    with use_language("zh"):
        assert judge_messages.epochs(1) == "1 个 epoch" and judge_messages.epochs(5) == "5 个 epoch"


def test_an_unknown_message_is_said_in_english() -> None:
    """A sentence nobody translated yet is shown as written, never as an empty string or an id."""
    with use_language("zh"):
        assert say("A sentence no catalogue has, about {thing}.", thing="x") == "A sentence no catalogue has, about x."
        assert say_n("{count} thing", "{count} things", 2) == "2 things"


# --- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("zh", "zh"), ("ZH", "zh"), ("zh_CN", "zh"), ("zh-Hans", "zh"), ("zh_CN.UTF-8", "zh"), ("zh_CN@pinyin", "zh"),
     ("en", "en"), ("en_GB.UTF-8", "en")],
)  # fmt: skip
def test_language_names_are_normalised(name: str, expected: str) -> None:
    assert normalise_language(name) == expected


@pytest.mark.parametrize("name", ["fr", "", "chinese", "C"])
def test_a_language_the_grader_does_not_speak_is_an_error(name: str) -> None:
    with pytest.raises(UnknownLanguage):
        normalise_language(name)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL overrides LANG
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),  # so does LC_MESSAGES
        ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh"),  # LANGUAGE first of all
        ({"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh"),  # the first language it lists that we speak
        ({"LANGUAGE": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # set but empty counts as unset
    ],
)
def test_the_language_comes_from_the_locale(environment: dict[str, str], expected: str) -> None:
    assert language_from_environment(environment) == expected


def test_use_language_is_undone_after_the_block_even_on_error() -> None:
    assert current_language() == "en"
    with pytest.raises(RuntimeError), use_language("zh_CN.UTF-8"):
        assert current_language() == "zh"
        raise RuntimeError
    assert current_language() == "en"


def test_each_thread_has_its_own_language() -> None:
    """A batch renders reports in threads; one thread's language never leaks into another."""
    seen: list[str] = []

    def other() -> None:
        seen.append(current_language())

    with use_language("zh"):
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        assert current_language() == "zh"
    assert seen == ["en"]


def test_set_language_checks_the_name() -> None:
    with pytest.raises(UnknownLanguage):
        set_language("klingon")
    assert current_language() == "en"


# --- a catalogue out of step, or damaged, never costs a learner their result ---------------------


def _translations_of(entries: dict[str, str]) -> GNUTranslations:
    catalogue = Catalog(locale="zh")
    for english, chinese in entries.items():
        catalogue.add(english, chinese)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return GNUTranslations(buffer)


def test_a_translation_naming_a_fact_it_is_not_given_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = _translations_of({"Test accuracy {accuracy:.4f}.": "测试准确率 {acc:.4f}。"})
    monkeypatch.setattr(messages, "translations", lambda language: stale)
    with use_language("zh"):
        assert say("Test accuracy {accuracy:.4f}.", accuracy=0.9) == "Test accuracy 0.9000."


def test_the_codes_own_sentence_with_a_missing_fact_is_a_bug_that_shows() -> None:
    with pytest.raises(KeyError):
        say("Test accuracy {accuracy:.4f}.", acc=0.9)


def test_a_damaged_catalogue_is_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "judges.po").write_text('msgid "x"\nmsgstr "y"\n<<<<<<< HEAD\nmsgid\n', encoding="utf-8")
    monkeypatch.setattr(messages, "LOCALE_DIR", tmp_path)
    with pytest.warns(UserWarning, match="could not be read"):
        assert messages._load_catalogue("zh", "judges") is None


def test_a_compiled_catalogue_is_used_when_it_is_newer_than_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """scripts/setup.sh compiles the .mo; the grader reads it instead of compiling the .po."""
    import os

    folder = tmp_path / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "judges.po").write_text('msgid "Correct."\nmsgstr "po"\n', encoding="utf-8")
    catalogue = Catalog(locale="zh")
    catalogue.add("Correct.", "mo")
    with (folder / "judges.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    monkeypatch.setattr(messages, "LOCALE_DIR", tmp_path)
    loaded = messages._load_catalogue("zh", "judges")
    assert loaded is not None and loaded.gettext("Correct.") == "mo"
    os.utime(folder / "judges.mo", (1, 1))  # older than the .po: the .po is newer, so it wins
    loaded = messages._load_catalogue("zh", "judges")
    assert loaded is not None and loaded.gettext("Correct.") == "po"
