"""Write a case bundle (zip) for support: the redacted executed notebook, the redacted HAR, the
diagnosis in Markdown and an environment summary (kit and library versions, target kind).

Nothing is written if any file would still hold a secret value known from the environment
(AUTH0_CLIENT_SECRET, AUTH0_PASSWORD, .env), from the HAR itself, or from --secret-env variables;
the error says which file and where. Exit status: 0 written, 1 refused (a secret would leak),
2 an input cannot be read.
"""
from __future__ import annotations

import argparse
import os
import sys

from mfa_helpers.support.bundle import SecretLeak, write_bundle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebook", metavar="EXECUTED.ipynb", help="the executed notebook to include")
    parser.add_argument("--har", metavar="FILE.har", help="the HAR to include and diagnose")
    parser.add_argument("--out", metavar="CASE.zip", default="case.zip", help="where to write (case.zip)")
    parser.add_argument("--target", choices=("emulator", "tenant"),
                        help="the target kind to report (default: from the environment)")
    parser.add_argument("--domain", metavar="TENANT.REGION.auth0.com",
                        help="the tenant's canonical domain, for the diagnosis")
    parser.add_argument("--secret-env", metavar="NAME", action="append", default=[],
                        help="another environment variable whose value must never be in the bundle")


def run(args: argparse.Namespace) -> int:
    if not args.notebook and not args.har:
        print("mfa-kit bundle: give --notebook, --har or both", file=sys.stderr)
        return 2
    extra = {name: os.environ[name] for name in args.secret_env if os.environ.get(name)}
    try:
        out = write_bundle(args.out, notebook=args.notebook, har=args.har, target=args.target,
                           canonical_domain=args.domain, secrets=extra)
    except SecretLeak as leak:
        print(f"mfa-kit bundle: {leak}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:  # unreadable or not JSON / not a HAR
        print(f"mfa-kit bundle: cannot read the input: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out}: no known secret value in it. Attach it to the support case.")
    return 0
