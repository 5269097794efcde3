"""Headless verification (`mfa-kit verify`) and the interactive lab (`mfa-kit lab`).

`verify` replays the notebooks with papermill in a process pool, re-checks the golden notebooks with
nbval, and writes a run folder (executed notebooks, HARs, report.html, junit.xml, summary.json) whose
every file went through the kit's redaction; a history file next to the run folders feeds the report.
"""
