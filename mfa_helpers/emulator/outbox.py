"""The emulator's "phone": SMS, voice and email codes and push requests land here, not in the world."""
from __future__ import annotations

from typing import Any

from .runtime import Runtime


def send(rt: Runtime, channel: str, to: str, username: str, *, binding_code: str | None = None,
         transaction: str | None = None) -> None:
    name = rt.tenant.name
    if channel == "auth0":
        text = f"{name}: approve the sign-in request for {username}?"
    elif channel == "voice":
        text = f"This is {name}. Your verification code is {' '.join(binding_code or '')}."
    else:
        text = f"{binding_code} is your verification code for {name}."
    rt.store.insert("outbox", channel=channel, to_addr=to, username=username,
                    binding_code=binding_code, tx=transaction, text=text, sent_at=rt.clock.now())


def messages(rt: Runtime, to: str | None = None) -> list[dict[str, Any]]:
    """Newest last, in the shape of GET /emulator/outbox."""
    rows = rt.store.rows("outbox", order="id", **({"to_addr": to} if to else {}))
    return [{"id": r["id"], "channel": r["channel"], "to": r["to_addr"], "username": r["username"],
             "binding_code": r["binding_code"], "transaction": r["tx"], "text": r["text"],
             "sent_at": int(r["sent_at"])} for r in rows]
