"""Every sentence a learner or an instructor reads, in their language.

The grader's code never writes learner-facing English inline: judges, the sandbox's parent
side, renderers and the command line call the functions of this package's modules, which hold
the English sentences (the gettext message ids) and look them up in the catalogue of the
current language:

- ``grader.messages.judges``     what the checks found and how to fix it (messages and hints)
- ``grader.messages.sandbox``    what happened to the learner's run (limits, crashes, codes)
- ``grader.messages.interface``  the command line, terminal, progress lines and reports

The catalogues are gettext ``.po`` files managed with Babel, one per module, under
``grader/locale/<lang>/LC_MESSAGES/<module>.po`` (``make translations`` extracts and updates them;
``scripts/setup.sh`` compiles them to ``.mo``; both use ``grader.messages.catalogues``). They are
merged into one lookup, so a message id is found whichever file holds it (and means the same in
every file that has it: tests/test_messages.py checks). English is the default and needs no
catalogue.

The language is chosen once per command (``--lang``, else the locale: ``LANG=zh_CN.UTF-8``) with
``set_language``; ``use_language`` switches it for a block (a batch renders a report in the
instructor's language). It is a context variable, so threads of a batch each see their own.

Keras' own exception text is never translated: it is a fact, shown as Keras wrote it, and only
the explanation around it comes from here.
"""

from __future__ import annotations

import gettext
import os
import string
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh")
"""The languages the grader speaks; the first is the default."""
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
CATALOGUES = ("judges", "sandbox", "interface")
"""One gettext domain per module of this package; merged into one lookup per language."""

_language: ContextVar[str] = ContextVar("grader_language", default=DEFAULT_LANGUAGE)


class UnknownLanguage(ValueError):
    """``--lang`` named a language the grader has no catalogue for."""


def normalise_language(name: str) -> str:
    """``zh``, ``zh_CN``, ``zh-Hans``, ``zh_CN.UTF-8`` -> ``zh``; ``en_GB`` -> ``en``.

    Raises UnknownLanguage for anything else, so a typo in ``--lang`` is an error, not English.
    """
    base = name.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if base in LANGUAGES:
        return base
    raise UnknownLanguage(name)


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for, as gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES,
    LANG, first set wins); English when it names none the grader speaks (``C``, ``POSIX``, ``fr``)."""
    environ = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if not value:
            continue
        for name in value.split(":"):  # LANGUAGE may list several: "zh_CN:en"
            try:
                return normalise_language(name)
            except UnknownLanguage:
                continue
        return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    """Speak ``language`` (any spelling ``normalise_language`` accepts) from now on."""
    _language.set(normalise_language(language))


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Speak ``language`` inside the block, then the previous language again."""
    token = _language.set(normalise_language(language))
    try:
        yield
    finally:
        _language.reset(token)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The merged catalogue of ``language`` (English: none, the ids are the English)."""
    merged: gettext.NullTranslations = gettext.NullTranslations()
    if language == DEFAULT_LANGUAGE:
        return merged
    for domain in CATALOGUES:
        catalogue = _load_catalogue(language, domain)
        if catalogue is not None:
            catalogue.add_fallback(merged)
            merged = catalogue
    return merged


def _load_catalogue(language: str, domain: str) -> gettext.NullTranslations | None:
    """One domain's compiled ``.mo``; when it is missing or older than its ``.po`` (a source
    checkout where nobody ran the compile step), the ``.po`` compiled in memory with Babel.

    A catalogue that cannot be read (a damaged file, a merge conflict left in a ``.po``) is
    skipped with a warning: its messages are shown in English rather than a learner's grading
    ending in a traceback.
    """
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    try:
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return gettext.GNUTranslations(handle)
        if not po.is_file():
            return None
        return _compile_in_memory(po, language)
    except Exception as exc:  # noqa: BLE001 - Babel and gettext raise several kinds; English is the safe answer
        warnings.warn(f"the {language} catalogue {domain} could not be read, so it is not used: {exc}", stacklevel=2)
        return None


def _compile_in_memory(po: Path, language: str) -> gettext.GNUTranslations:
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalogue = read_po(handle, locale=language, abort_invalid=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _(message: str) -> str:
    """``message`` (an English message id) in the current language."""
    if current_language() == DEFAULT_LANGUAGE:
        return message
    return translations(current_language()).gettext(message)


def say(message: str, /, **facts: object) -> str:
    """``message`` translated, then its ``{placeholders}`` filled with ``facts``.

    Placeholders are named (``{found}``, never ``{}``), so a translation may put them in any
    order; the catalogue tests check each translation uses exactly the English one's names.
    With no facts nothing is filled in, so such a message writes a brace as it is (``{``).
    """
    translated = _(message)
    if not facts:
        return translated
    return _fill(translated, message, facts)


def _fill(translated: str, english: str, facts: Mapping[str, object]) -> str:
    """``translated`` with its placeholders filled; the English sentence when the translation
    names a placeholder it was not given (a catalogue not yet in step with the code), so a fact
    is never lost and the sentence never crashes."""
    try:
        if current_language() == "zh":
            return _fill_chinese(translated, facts)
        return translated.format(**facts)
    except (KeyError, IndexError, ValueError):
        if translated == english:
            raise  # the code's own sentence and its facts disagree: a bug to see, not hide
        return english.format(**facts)


def _is_han(character: str) -> bool:
    return "\u4e00" <= character <= "\u9fff" or "\u3400" <= character <= "\u4dbf"


_LATIN_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789`")
_LATIN_END = _LATIN_START | frozenset(")]")


def _fill_chinese(translated: str, facts: Mapping[str, object]) -> str:
    """``translated`` filled, without the space a catalogue writes beside a placeholder (as
    English needs, "{source} 是") where the fact filled in is Chinese on the side that meets
    Chinese text: "返回的模型是", not "返回的模型 是". Chinese puts no space between Chinese
    characters; a space beside a name or a number ("build_model() 返回了") stays. Only the
    junctions of the catalogue's text and a fact change, never the fact (learner text) itself."""
    pieces: list[tuple[str, bool]] = []  # (text, is_a_fact)
    for literal, field, spec, conversion in string.Formatter().parse(translated):
        if literal:
            pieces.append((literal, False))
        if field is not None:
            placeholder = "{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            pieces.append((placeholder.format(**facts), True))
    texts = [text for text, _is_fact in pieces]
    for index, (_text, is_fact) in enumerate(pieces):
        if is_fact:
            continue
        before = texts[index - 1] if index > 0 else ""
        after = texts[index + 1] if index + 1 < len(texts) else ""
        literal = texts[index]
        if literal.startswith(" ") and len(literal) > 1 and before and _is_han(before[-1]) and _is_han(literal[1]):
            literal = literal[1:]
        if literal.endswith(" ") and len(literal) > 1 and after and _is_han(after[0]) and _is_han(literal[-2]):
            literal = literal[:-1]
        # And the other way round: a name or number filled in beside Chinese text gets the space
        # the catalogue writes elsewhere ("你的 notebook 中", not "你的notebook中").
        if before and _is_han(literal[0]) and before[-1] in _LATIN_END:
            literal = " " + literal
        if after and _is_han(literal[-1]) and after[0] in _LATIN_START:
            literal = literal + " "
        texts[index] = literal
    return "".join(texts)


def say_n(singular: str, plural: str, count: int, /, **facts: object) -> str:
    """The singular or plural sentence for ``count`` (Chinese has one form), filled with
    ``facts`` and ``count``."""
    english = singular if count == 1 else plural
    if current_language() == DEFAULT_LANGUAGE:
        return english.format(count=count, **facts)
    chosen = translations(current_language()).ngettext(singular, plural, count)
    return _fill(chosen, english, {"count": count, **facts})


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (a table of sentences at
    module level, translated with ``_`` or ``say`` when it is used)."""
    return message
