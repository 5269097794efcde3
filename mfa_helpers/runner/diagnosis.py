"""What went wrong in a failed notebook's HTTP exchanges, in plain words, from its HAR."""
from __future__ import annotations

from pathlib import Path

from mfa_helpers.support.diagnose import diagnose, exchanges_from_har


def diagnose_har(har: Path) -> list[str]:
    """One line per finding (problem, fix, doc link) for the exchanges recorded in `har`."""
    try:
        return [str(finding) for finding in diagnose(exchanges_from_har(har))]
    except Exception as exc:  # a HAR the rules cannot read must not cost the run its report
        return [f"no diagnosis: the HAR could not be read ({type(exc).__name__}: {exc})"]
