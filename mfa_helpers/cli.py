"""mfa-kit: the MFA API notebook kit's commands: the local Auth0 MFA API emulator, headless
verification of the notebooks, JupyterLab on the emulator, and support's HAR diagnosis and case bundle."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

# name -> (module providing add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS = {
    "emulator": ("mfa_helpers.emulator.cli", "run the local Auth0 MFA API emulator in the foreground"),
    "verify": ("mfa_helpers.runner.cli", "replay the notebooks headless and write a report"),
    "lab": ("mfa_helpers.runner.lab", "start the emulator and JupyterLab at the first notebook"),
    "diagnose": ("mfa_helpers.support.cli_diagnose", "explain the MFA failures in a HAR file"),
    "bundle": ("mfa_helpers.support.cli_bundle", "write a redacted case bundle (zip) for support"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line that names the fix, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; fix: see `{self.prog} --help`\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = _Parser(prog="mfa-kit", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = parser
    for name, (module_name, help_text) in COMMANDS.items():
        if name != chosen:  # only the chosen command's module is imported: the others' cost seconds
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command they were given to, which names its own --help
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
