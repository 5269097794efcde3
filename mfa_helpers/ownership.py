"""Which of a user's factors a run created: the ones its own enrollments account for.

The kit deletes only what it created. Factors that appeared during a run are not all the run's:
someone may enroll on the same test user meanwhile (a person running a notebook by hand). So each
new factor is matched to one of the run's own `POST /mfa/associate` answers, by kind, oldest first;
a companion listed with it (`sms|dev_X` and `voice|dev_X`, a push factor and its OTP: same `dev_X`)
goes with it, and the recovery code goes with the run's factors when nothing else is new.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import protocol
from .exchange import from_har


def enrolled_kind(answer: Mapping[str, Any]) -> str:
    """The channel an associate answer enrolled: otp, sms, voice, email or auth0 (push)."""
    return "otp" if answer.get("authenticator_type") == "otp" else str(answer.get("oob_channel"))


def enrollments_in_har(har: Mapping[str, Any]) -> list[str]:
    """The kinds a HAR's successful `POST /mfa/associate` calls enrolled, in order."""
    return [enrolled_kind(e.response_json) for e in from_har(har)
            if e.method == "POST" and e.url.split("?", 1)[0].endswith("/mfa/associate") and e.status == 200
            and isinstance(e.response_json, dict)]


def _device(authenticator: Mapping[str, Any]) -> str:
    return str(authenticator["id"]).split("|", 1)[-1]


def _prefix(authenticator: Mapping[str, Any]) -> str:
    return str(authenticator["id"]).split("|", 1)[0]


def claim(new: Iterable[Mapping[str, Any]], enrolled: Iterable[str]) -> tuple[list[dict], list[dict]]:
    """Split factors that appeared during a run into (the run's, someone else's), keeping the
    listed order. `enrolled`: the kinds the run's associate calls enrolled."""
    new = [dict(a) for a in new]
    mine: list[dict] = []
    for kind in enrolled:
        prefix = protocol.ID_PREFIXES.get(kind)
        claimed = {_device(a) for a in mine}   # a twin of a claimed factor is no enrollment of its own
        found = next((a for a in new if _prefix(a) == prefix and _device(a) not in claimed), None)
        if found is not None:
            mine.append(found)
    devices = {_device(a) for a in mine}
    mine += [a for a in new if a not in mine and _prefix(a) != "recovery-code" and _device(a) in devices]
    others = [a for a in new if a not in mine and _prefix(a) != "recovery-code"]
    mine += [a for a in new if _prefix(a) == "recovery-code" and mine and not others]
    others += [a for a in new if _prefix(a) == "recovery-code" and a not in mine]
    return [a for a in new if a in mine], [a for a in new if a in others]
