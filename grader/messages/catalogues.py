"""Keeping the gettext catalogues in step with the code: extract, update, compile.

Each gettext domain (``grader.messages.CATALOGUES``) is one module of this package, plus, for
``interface``, the report templates. Its message ids are the strings passed to ``_``, ``N_``,
``say`` and ``say_n`` (``{{ _("...") }}`` and ``{% trans %}`` in templates), extracted with Babel
as ``babel.cfg`` (at the root of the source tree) says to read each kind of file.

``scripts/translations.py`` (``make translations``) calls ``update`` then ``compile_all``;
``scripts/setup.sh`` calls ``compile_all`` alone; ``tests/test_messages.py`` calls ``extract`` to
check that every ``.po`` holds every message of the code, translated, with the same placeholders.
This is a tool for a source checkout: an installed grader only reads the compiled catalogues
(or compiles a ``.po`` in memory, see ``grader.messages._load_catalogue``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.util import pathmatch

from grader import __version__
from grader.atomic import write_atomically
from grader.messages import CATALOGUES, LANGUAGES, LOCALE_DIR

SOURCE_ROOT = LOCALE_DIR.parent.parent
"""The source tree: where ``babel.cfg``, ``grader/`` and ``templates/`` are."""
MAPPING_FILE = SOURCE_ROOT / "babel.cfg"

# The files whose messages make up each domain, as globs under SOURCE_ROOT.
DOMAIN_SOURCES: dict[str, tuple[str, ...]] = {
    domain: (f"grader/messages/{domain}.py", f"grader/messages/{domain}/**/*.py") for domain in CATALOGUES
}
DOMAIN_SOURCES["interface"] += ("templates/**/*.j2",)

# How messages are marked in the code: grader.messages' functions, and jinja2.ext.i18n's names in
# templates. ``say_n(singular, plural, count)``: arguments 1 and 2 are the message ids.
KEYWORDS: dict[str, Any] = {
    "_": None,
    "N_": None,
    "say": None,
    "say_n": (1, 2),
    "gettext": None,
    "ngettext": (1, 2),
}
# A comment starting "TRANSLATORS:" just above a message is copied into the .po for translators.
COMMENT_TAGS = ("TRANSLATORS:",)
# Languages with a catalogue to keep: all but English, whose catalogue is the code itself.
TRANSLATED = tuple(language for language in LANGUAGES if language != "en")
PO_WIDTH = 100


@dataclass(frozen=True)
class Message:
    """One message id as the code has it: ``id`` a string, or (singular, plural) for ``say_n``."""

    id: str | tuple[str, str]
    locations: tuple[tuple[str, int], ...]


def po_path(domain: str, language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def mo_path(domain: str, language: str) -> Path:
    return po_path(domain, language).with_suffix(".mo")


def _methods() -> list[tuple[str, str, dict[str, str]]]:
    """``babel.cfg`` as (pattern, extraction method, options), in the file's order."""
    with MAPPING_FILE.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, filename=str(MAPPING_FILE))
    return [(pattern, method, dict(options_map.get(pattern, {}))) for pattern, method in method_map]


def source_files(domain: str) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """Every file of ``domain`` that ``babel.cfg`` says how to read: (path, method, options)."""
    methods = _methods()
    seen: set[Path] = set()
    for glob in DOMAIN_SOURCES[domain]:
        for path in sorted(SOURCE_ROOT.glob(glob)):
            relative = path.relative_to(SOURCE_ROOT).as_posix()
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            # The first section of babel.cfg whose pattern fits, as pybabel reads it.
            method = next(((m, o) for pattern, m, o in methods if pathmatch(pattern, relative)), None)
            if method is not None and method[0] != "ignore":
                yield path, method[0], method[1]


def extract(domain: str) -> dict[str | tuple[str, str], Message]:
    """The messages the code of ``domain`` says, by id, in the order they first appear."""
    found: dict[str | tuple[str, str], Message] = {}
    for path, method, options in source_files(domain):
        relative = path.relative_to(SOURCE_ROOT).as_posix()
        for line, text, _comments, _context in extract_from_file(
            method, path, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, options=options
        ):
            if not text or (isinstance(text, tuple) and not all(text)):
                continue  # a call with a variable, not a string: its message is marked elsewhere (N_)
            key = text if isinstance(text, str) else (text[0], text[1])
            previous = found.get(key)
            where = ((relative, line),)
            found[key] = Message(key, previous.locations + where if previous else where)
    return found


def template(domain: str) -> Catalog:
    """The ``.pot`` of ``domain``: every message of its code, untranslated."""
    catalogue = Catalog(domain=domain, project="exercise-grader", version=__version__, fuzzy=False)
    for path, method, options in source_files(domain):
        relative = path.relative_to(SOURCE_ROOT).as_posix()
        for line, text, comments, context in extract_from_file(
            method, path, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, options=options, strip_comment_tags=True
        ):
            if not text or (isinstance(text, tuple) and not all(text)):
                continue
            catalogue.add(text, None, [(relative, line)], auto_comments=comments, context=context)
    return catalogue


def read_catalogue(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def update(domain: str, language: str) -> tuple[Path, int, int]:
    """Bring ``domain``'s ``.po`` for ``language`` in step with the code (created when missing):
    new messages are added untranslated (or, when one resembles an old one, with its translation
    marked fuzzy for a translator to check), messages the code no longer says are dropped.
    Returns the file, its number of messages and how many of them still need a translator."""
    pot = template(domain)
    path = po_path(domain, language)
    if path.is_file():
        catalogue = read_catalogue(path, language)
        catalogue.update(pot, update_creation_date=False)
    else:
        catalogue = Catalog(
            locale=language,
            domain=domain,
            header_comment=f"# The grader's {domain} messages in {language}; see grader/messages/catalogues.py.",
            project="exercise-grader",
            version=__version__,
            copyright_holder="the exercise-grader authors",
            msgid_bugs_address="",
            last_translator="exercise-grader translators",
            language_team=language,
            fuzzy=False,
        )
        catalogue.update(pot, update_creation_date=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=PO_WIDTH, ignore_obsolete=True, include_lineno=False)
    if not path.is_file() or path.read_bytes() != buffer.getvalue():
        write_atomically(path, buffer.getvalue())
    entries = [message for message in catalogue if message.id]
    untranslated = [message for message in entries if message.fuzzy or not _translated(message.string)]
    return path, len(entries), len(untranslated)


def _translated(string: object) -> bool:
    """A translation with every form written (a plural has several)."""
    if isinstance(string, (tuple, list)):
        return all(string)
    return bool(string)


def compile_mo(domain: str, language: str) -> Path | None:
    """Compile ``domain``'s ``.po`` for ``language`` to the ``.mo`` gettext reads (fuzzy
    translations left out: English is shown until a translator confirms them). None when the
    domain has no catalogue in that language."""
    path = po_path(domain, language)
    if not path.is_file():
        return None
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(path, language))
    return write_atomically(mo_path(domain, language), buffer.getvalue())


def compile_all() -> list[Path]:
    return [path for language in TRANSLATED for domain in CATALOGUES if (path := compile_mo(domain, language))]
