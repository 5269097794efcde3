"""Explain the MFA API failures in a HAR file, in order: one the kit wrote, or one exported from a
browser (devtools → Network → Export HAR) or a proxy (Charles, Fiddler).

Exit status: 0 when there is nothing to report, 1 when failures (or things the HAR cannot show)
were found and explained, 2 when the file or an option cannot be used (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from mfa_helpers.support.diagnose import Finding, diagnose, normalise_domain
from mfa_helpers.support.har import HarError, read_har


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("har", metavar="FILE.har", help="the HAR file to explain (gzip and UTF-16 are read too)")
    parser.add_argument("--domain", metavar="TENANT.REGION.auth0.com",
                        help="the tenant's canonical domain (else guessed from the MFA API hosts, "
                             "token issuers and error answers in the HAR)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--all", action="store_true",
                        help="also show informational findings (e.g. mfa_required asking to enroll)")


def run(args: argparse.Namespace) -> int:
    try:
        domain = normalise_domain(args.domain) if args.domain else None
        har = read_har(args.har)
        findings = [f for f in diagnose(har, canonical_domain=domain) if args.all or f.severity != "info"]
    except (HarError, ValueError) as exc:
        print(f"mfa-kit diagnose: {exc}", file=sys.stderr)
        return 2
    code = 1 if any(f.severity in ("error", "warning") for f in findings) else 0
    text = (json.dumps([asdict(f) | {"headline": f.headline} for f in findings], indent=2, ensure_ascii=False)
            if args.json else render(findings, total=len(har["log"]["entries"])))
    try:
        sys.stdout.write(text + ("\n" if args.json else ""))
        sys.stdout.flush()
    except BrokenPipeError:   # `--json | head`: the reader left; say nothing more, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def render(findings: list[Finding], total: int) -> str:
    """Findings as plain text for a terminal, numbered in the order they first happened."""
    if not findings:
        return f"No MFA API failure recognised in {total} exchanges.\n"
    lines = [f"{len(findings)} finding(s) in {total} exchanges:", ""]
    for number, f in enumerate(findings, 1):
        lines += [f"{number}. [{f.severity}] {f.headline}",
                  f"   {f.where}",
                  f"   Why: {f.explanation}",
                  f"   Fix: {f.fix}",
                  f"   Docs: {f.doc_url}", ""]
    return "\n".join(lines).rstrip() + "\n"
