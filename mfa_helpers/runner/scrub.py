"""The last gate before the run folder: every string of every artifact passes through `Scrubber`.

It applies the kit's structural redaction (`mfa_helpers.redact`: a cell that printed a raw answer,
a JSON string or a form body loses its TOTP seed, recovery codes and tokens although the run never
knew them) with, as known secrets, the values of the secret-bearing variables of the run's
environment, which no rule can know about.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mfa_helpers.redact import mask_known, redact_json, redact_text


class Scrubber:
    """Redacts strings and JSON trees (field rules at any depth, known secret values everywhere)."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = tuple(secrets)

    def text(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def tree(self, node: Any) -> Any:
        """A redacted copy of a JSON-like tree (field rules by key, every string value scrubbed)."""
        return redact_json(node, self._secrets)

    def json_text(self, data: Any) -> str:
        """`data` as indented JSON, redacted (keys too: known secrets are masked in the whole text)."""
        return mask_known(json.dumps(self.tree(data), indent=1, ensure_ascii=False), self._secrets)

    def write_text(self, path: Path, text: str) -> None:
        _write(path, self.text(text))

    def write_json(self, path: Path, data: Any) -> None:
        _write(path, self.json_text(data))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
