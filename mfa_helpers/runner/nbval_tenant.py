"""A pytest plugin for nbval against a tenant (loaded with `-p` for tenant runs only): the recorded
results go through the sanitizer too, which nbval does for text alone, so that the tenant's patterns
(`tenant.tenant_patterns`) apply to them as well.
"""
from __future__ import annotations

import json
from typing import Any

from nbval.plugin import IPyNbCell

_sanitize_text = IPyNbCell.sanitize


def _sanitize(self: IPyNbCell, value: Any) -> Any:
    """Recorded results (JSON) compared as their sanitized, key-sorted JSON text."""
    if isinstance(value, (dict, list)):
        return _sanitize_text(self, json.dumps(value, sort_keys=True, ensure_ascii=False))
    return _sanitize_text(self, value)


IPyNbCell.sanitize = _sanitize
