"""JUnit XML of a run's expectations, for CI systems: one test suite per scenario and
profile, one test case per expectation (a failed or never reached one is a failure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO
from xml.etree import ElementTree as ET

from .runs import Run


def junit_xml(results: Iterable[Run]) -> ET.ElementTree[ET.Element]:
    """The document: ``<testsuites>`` with a ``<testsuite>`` per run."""
    root = ET.Element("testsuites", name="simnotify")
    total = failures = 0
    for res in results:
        source = res.plan.source
        suite = ET.SubElement(
            root, "testsuite", name=f"{res.plan.name} ({res.profile})", file=source
        )
        cases = [*res.checks, *res.outcomes]
        failed = 0
        for check in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{res.plan.name}.{res.profile}",
                name=f"{source}:{check.line}: {check.message()}",
                file=source,
                line=str(check.line),
            )
            if not check.ok:
                failed += 1
                reached = getattr(check, "reached", True)
                ET.SubElement(
                    case, "failure", message="not reached" if not reached else "failed"
                ).text = check.message()
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failed))
        suite.set("errors", "0")
        total, failures = total + len(cases), failures + failed
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: Iterable[Run], fh: TextIO) -> None:
    """Write the JUnit XML of ``results`` to ``fh``."""
    fh.write('<?xml version="1.0" encoding="utf-8"?>\n')
    junit_xml(results).write(fh, encoding="unicode")
    fh.write("\n")
