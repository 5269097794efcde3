"""What went wrong in a failed notebook's HTTP exchanges, in plain words, from its HAR.

Uses the support package's `mfa_helpers.diagnose` when it is installed; without it a report simply
has no diagnosis.
"""
from __future__ import annotations

from pathlib import Path


def diagnose_har(har: Path) -> list[str]:
    """One line per finding (problem, fix, doc link) for the exchanges recorded in `har`."""
    try:
        from mfa_helpers.diagnose import diagnose, exchanges_from_har
    except ImportError:
        return []
    return [str(finding) for finding in diagnose(exchanges_from_har(har))]
