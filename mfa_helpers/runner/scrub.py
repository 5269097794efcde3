"""The last gate before the run folder: every string of every artifact passes through `Scrubber`.

Two layers: the kit's own redaction rules (`kit_redact`, the one swap point onto `mfa_helpers.redact`)
and the literal values of the secrets in the run's environment, which no rule can know about.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def kit_redact(text: str) -> str:
    """The kit's redaction rules applied to free text (tokens, codes, secrets, phone numbers, emails)."""
    try:
        from mfa_helpers.redact import redact_text
    except ImportError:  # the client package is not installed in this tree yet: literal masking only
        return text
    return redact_text(text)


class Scrubber:
    """Masks known secret values (name -> value) and applies the kit's rules to strings and JSON trees."""

    def __init__(self, secrets: dict[str, str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(secrets.items(), key=lambda item: len(item[1]), reverse=True)

    def text(self, text: str) -> str:
        for name, value in self._secrets:
            text = text.replace(value, f"[redacted {name}]")
        return kit_redact(text)

    def tree(self, node: Any) -> Any:
        """A copy of a JSON-like tree with every string (keys included) scrubbed."""
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, dict):
            return {self.text(k): self.tree(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.tree(v) for v in node]
        return node

    def write_text(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(text), encoding="utf-8")

    def write_json(self, path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.tree(data), indent=1, ensure_ascii=False)
        path.write_text(self.text(text), encoding="utf-8")  # again on the serialised form: escapes
