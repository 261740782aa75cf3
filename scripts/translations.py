#!/usr/bin/env python3
"""Keep the translations of the grader's messages in step with the code (gettext, with Babel).

  python scripts/translations.py            # `make translations`: update every .po from the code, then compile
  python scripts/translations.py --compile  # only compile the .po files to .mo (scripts/setup.sh)
  python scripts/translations.py --check    # exit 1 when a .po lacks a message of the code, or a translation
  python scripts/translations.py --pot DIR  # write each domain's template (DIR/<domain>.pot) for translation tools

Updating extracts each domain's messages (grader/messages/<domain>.py, and the templates for
"interface"; babel.cfg says how each kind of file is read) into its template and merges it into
grader/locale/<lang>/LC_MESSAGES/<domain>.po: new messages come in untranslated (or fuzzy, with
the translation of a similar old one, for a translator to confirm), messages the code no longer
says go. Translate the empty and fuzzy entries, remove the fuzzy flag, and run it again.
The compiled .mo files are build products (not committed); the grader compiles a .po in memory
when its .mo is missing or older.

The extraction is Babel's own, so the plain command line gives the same templates, e.g.
  pybabel extract -F babel.cfg -k say -k say_n:1,2 -k N_ -o judges.pot grader/messages/judges.py
  pybabel extract -F babel.cfg -k say -k say_n:1,2 -k N_ -o interface.pot \
      grader/messages/interface.py templates/*.j2 templates/*/*.j2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the source tree's grader, installed or not

from babel.messages.pofile import write_po

from grader.messages import CATALOGUES
from grader.messages.catalogues import (
    PO_WIDTH,
    SOURCE_ROOT,
    TRANSLATED,
    compile_all,
    extract,
    po_path,
    read_catalogue,
    template,
    update,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--compile", action="store_true", help="only compile the .po files to .mo")
    action.add_argument("--check", action="store_true", help="only report whether the .po files are complete")
    action.add_argument("--pot", metavar="DIR", type=Path, help="only write each domain's .pot template into DIR")
    args = parser.parse_args(argv)

    if args.compile:
        for path in compile_all():
            print(f"compiled {path.relative_to(SOURCE_ROOT)}")
        return 0
    if args.check:
        return check()
    if args.pot:
        args.pot.mkdir(parents=True, exist_ok=True)
        for domain in CATALOGUES:
            path = args.pot / f"{domain}.pot"
            with path.open("wb") as handle:
                write_po(handle, template(domain), width=PO_WIDTH, include_lineno=False)
            print(f"wrote {path}")
        return 0
    for language in TRANSLATED:
        for domain in CATALOGUES:
            if not extract(domain) and not po_path(domain, language).is_file():
                continue  # a domain whose module says nothing yet
            path, total, missing = update(domain, language)
            todo = f", {missing} to translate" if missing else ", all translated"
            print(f"updated {path.relative_to(SOURCE_ROOT)}: {total} messages{todo}")
    for path in compile_all():
        print(f"compiled {path.relative_to(SOURCE_ROOT)}")
    return 0


def check() -> int:
    """What ``update`` would change, and what is left to translate; 1 when anything is."""
    problems = 0
    for language in TRANSLATED:
        for domain in CATALOGUES:
            path = po_path(domain, language)
            code = extract(domain)
            if not path.is_file():
                if code:
                    print(f"{path.relative_to(SOURCE_ROOT)}: missing ({len(code)} messages in the code)")
                    problems += 1
                continue
            catalogue = read_catalogue(path, language)
            for key in code:
                message = catalogue.get(key if isinstance(key, str) else key[0])
                if message is None:
                    print(f"{path.relative_to(SOURCE_ROOT)}: not in the catalogue: {key!r}")
                elif message.fuzzy or not all(
                    message.string if isinstance(message.string, tuple) else [message.string]
                ):
                    print(f"{path.relative_to(SOURCE_ROOT)}: not translated (or fuzzy): {key!r}")
                else:
                    continue
                problems += 1
    if problems:
        print(f"{problems} problems: run `make translations` and translate what it reports.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
