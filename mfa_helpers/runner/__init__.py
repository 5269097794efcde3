"""Headless verification (`mfa-kit verify`) and the interactive lab (`mfa-kit lab`).

`verify` replays the notebooks with papermill in a process pool, compares the executed notebooks
with the golden ones through nbval, and writes a run folder (executed notebooks, HARs, report.html,
junit.xml, summary.json) whose every file went through the kit's redaction; a history file next to
the run folders feeds the report.
"""
import sys

# jsonschema (under nbformat, so under papermill and nbval) imports rfc3987_syntax when it is
# installed (jupyter-events asks for it), and that module compiles a grammar as it is imported:
# seconds in every process, more than a kernel's start. No notebook schema checks an IRI format, so
# the run's processes (this one, the pool's workers, nbval's pytest: each imports this package
# first) go without it.
sys.modules.setdefault("rfc3987_syntax", None)
