"""Explain the MFA API failures in a HAR file, in order: one the kit wrote, or one exported from
Chrome or Firefox devtools (Network tab → Export HAR).

Exit status: 0 when no MFA API failure is found, 1 when failures were found and explained,
2 when the file cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from mfa_helpers.diagnose import Finding, diagnose
from mfa_helpers.support.har import read_har


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("har", metavar="FILE.har", help="the HAR file to explain")
    parser.add_argument("--domain", metavar="TENANT.REGION.auth0.com",
                        help="the tenant's canonical domain (guessed from *.auth0.com hosts and audiences in the HAR)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--all", action="store_true",
                        help="also show informational findings (e.g. mfa_required asking to enroll)")


def run(args: argparse.Namespace) -> int:
    try:
        har = read_har(args.har)
    except (OSError, ValueError) as exc:
        print(f"mfa-kit diagnose: cannot read {args.har}: {exc}", file=sys.stderr)
        return 2
    findings = [f for f in diagnose(har, canonical_domain=args.domain)
                if args.all or f.severity != "info"]
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        print(render(findings, total=len(har["log"]["entries"])))
    return 1 if any(f.severity == "error" for f in findings) else 0


def render(findings: list[Finding], total: int) -> str:
    """Findings as plain text for a terminal, numbered in the order they happened."""
    if not findings:
        return f"No MFA API failure recognised in {total} exchanges."
    lines = [f"{len(findings)} finding(s) in {total} exchanges:", ""]
    for number, f in enumerate(findings, 1):
        lines += [f"{number}. [{f.severity}] {f.title}",
                  f"   exchange #{f.exchange}: {f.request} -> {f.response}",
                  f"   Why: {f.explanation}",
                  f"   Fix: {f.fix}",
                  f"   Docs: {f.doc_url}", ""]
    return "\n".join(lines).rstrip() + "\n"
