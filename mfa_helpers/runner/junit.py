"""junit.xml for CI dashboards: one test case per notebook, plus one per golden cell nbval checked."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def junit_xml(summary: dict[str, Any]) -> str:
    suites = ET.Element("testsuites", name="mfa-kit verify")
    notebooks = summary["notebooks"]
    suite = ET.SubElement(
        suites, "testsuite", name="notebooks", tests=str(len(notebooks)),
        failures=str(sum(nb["status"] != "passed" for nb in notebooks)),
        time=f"{sum(nb['duration'] for nb in notebooks):.2f}", timestamp=summary["started_at"],
    )
    for nb in notebooks:
        case = ET.SubElement(suite, "testcase", classname="notebooks", name=nb["name"], time=f"{nb['duration']:.2f}")
        if nb["failure"]:
            failure = nb["failure"]
            problem = ET.SubElement(case, "failure", message=failure["headline"], type=failure["ename"] or "Error")
            problem.text = f"{failure['source']}\n\n{failure['traceback']}".strip()
    nbval = summary["nbval"]
    golden = ET.SubElement(suites, "testsuite", name="nbval", failures=str(nbval["failed"]))
    if nbval["status"] == "skipped":
        ET.SubElement(ET.SubElement(golden, "testcase", classname="nbval", name="goldens"), "skipped", message=nbval["reason"])
    elif nbval["status"] == "failed" and not nbval["failed"]:
        ET.SubElement(ET.SubElement(golden, "testcase", classname="nbval", name="goldens"), "error", message=nbval["reason"])
    for checked in nbval["cases"]:
        case = ET.SubElement(golden, "testcase", classname="nbval", name=checked["name"])
        if checked["failure"] is not None:
            lines = checked["failure"].strip().splitlines()
            ET.SubElement(case, "failure", message=lines[0] if lines else "").text = checked["failure"]
    golden.set("tests", str(len(golden)))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
