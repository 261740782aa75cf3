"""JUnit XML, the test report format CI systems read (GitHub Actions, GitLab, Jenkins).

    <testsuites name="grade validate" tests="6" failures="1" errors="0" time="95.2">
      <testsuite name="fashion_mnist" tests="4" failures="1" errors="0" time="61.0">
        <testcase classname="grade.validate.fashion_mnist" name="reference solution ..." time="31.2"/>
        <testcase classname="grade.validate.fashion_mnist" name="bad/wrong_loss.py fails exactly ..." time="8.1">
          <failure message="failed [loss, training]; the manifest names [loss]">...checks...</failure>
        </testcase>
      </testsuite>
    </testsuites>

A ``failure`` is an expectation not met; an ``error`` is a case that could not be run at all
(no data, a grader fault). ElementTree escapes markup; characters XML 1.0 cannot hold at all
(terminal colour codes in a learner's output, other control characters) are removed first, or
the CI system would reject the whole file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.safe_text import printable

_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without what XML 1.0 forbids: ANSI colour sequences, then stray control characters."""
    return _NOT_XML.sub("", printable(value))


@dataclass
class JUnitCase:
    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None  # one-line message when the expectation was not met
    error: str | None = None  # one-line message when the case could not be run
    details: str = ""  # the body of the failure/error element: what the grader saw
    output: str = ""  # system-out: the checks, for a passing case too


@dataclass
class JUnitSuite:
    name: str
    cases: list[JUnitCase] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(case.seconds for case in self.cases)


def junit_xml(suites: list[JUnitSuite], name: str = "grade validate") -> str:
    root = ET.Element("testsuites", {"name": xml_text(name), **_counts(c for s in suites for c in s.cases)})
    root.set("time", f"{sum(s.seconds for s in suites):.3f}")
    for suite in suites:
        suite_element = ET.SubElement(root, "testsuite", {"name": xml_text(suite.name), **_counts(suite.cases)})
        suite_element.set("time", f"{suite.seconds:.3f}")
        for case in suite.cases:
            case_element = ET.SubElement(
                suite_element, "testcase", classname=xml_text(case.classname), name=xml_text(case.name),
                time=f"{case.seconds:.3f}",
            )  # fmt: skip
            if case.error is not None:
                ET.SubElement(case_element, "error", message=xml_text(case.error)).text = xml_text(
                    case.details or case.error
                )
            elif case.failure is not None:
                ET.SubElement(case_element, "failure", message=xml_text(case.failure)).text = xml_text(
                    case.details or case.failure
                )
            if case.output:
                ET.SubElement(case_element, "system-out").text = xml_text(case.output)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _counts(cases_in: Iterable[JUnitCase]) -> dict[str, str]:
    cases = list(cases_in)
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.failure is not None and c.error is None for c in cases)),
        "errors": str(sum(c.error is not None for c in cases)),
        "skipped": "0",
    }


def write_junit(path: Path, suites: list[JUnitSuite]) -> Path:
    from grader.batch.cache import write_text_atomically

    write_text_atomically(Path(path), junit_xml(suites))
    return Path(path)
