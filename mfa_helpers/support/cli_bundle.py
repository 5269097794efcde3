"""Write a case bundle (zip) for support: the redacted executed notebook, the redacted HAR, the
diagnosis in Markdown and an environment summary (kit and library versions, target kind).

Everything is redacted structurally first (see `mfa_helpers.redact`); then the bundle is scanned for
every secret value known (the inputs' own, every secret-looking environment variable, --secret-env)
in every encoding. A hit writes nothing and names the input file and where in it. Exit status:
0 written, 1 refused (a secret would survive), 2 an input or option is wrong.
"""
from __future__ import annotations

import argparse
import os
import sys

from mfa_helpers.support.bundle import BundleInputError, SecretLeak, write_bundle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebook", metavar="EXECUTED.ipynb", help="the executed notebook to include")
    parser.add_argument("--har", metavar="FILE.har", help="the HAR to include and diagnose")
    parser.add_argument("--out", metavar="CASE.zip", default="case.zip", help="where to write (case.zip)")
    parser.add_argument("--target", choices=("emulator", "tenant"),
                        help="the target kind the customer used, for the environment summary")
    parser.add_argument("--domain", metavar="TENANT.REGION.auth0.com",
                        help="the customer's canonical tenant domain, for the diagnosis (default: "
                             "what the HAR shows; this machine's AUTH0_DOMAIN is never used)")
    parser.add_argument("--secret-env", metavar="NAME", action="append", default=[],
                        help="another environment variable whose value must never be in the bundle")


def run(args: argparse.Namespace) -> int:
    if not args.notebook and not args.har:
        return _bad("give --notebook, --har or both")
    unset = [name for name in args.secret_env if not os.environ.get(name)]
    if unset:
        return _bad(f"--secret-env {unset[0]}: no such environment variable is set (export it, or drop "
                    "the option)")
    extra = {name: os.environ[name] for name in args.secret_env}
    try:
        out = write_bundle(args.out, notebook=args.notebook, har=args.har, target=args.target,
                           canonical_domain=args.domain, secrets=extra)
    except BundleInputError as exc:
        return _bad(str(exc))
    except SecretLeak as leak:
        print(f"mfa-kit bundle: {leak}", file=sys.stderr)
        return 1
    except OSError as exc:
        return _bad(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"Wrote {out}: redacted, and no secret value known to the kit is left in it in any encoding. "
          "It cannot know every secret: look through it before you send it.")
    return 0


def _bad(message: str) -> int:
    print(f"mfa-kit bundle: {message}", file=sys.stderr)
    return 2
