"""ApiError: raise it anywhere in a handler to answer with one of `protocol.ERRORS`."""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from mfa_helpers import protocol


class ApiError(Exception):
    """An Auth0 error answer: the spec from protocol.ERRORS, its fields, extra body and headers."""

    def __init__(self, key: str, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, **fields: Any):
        self.spec = protocol.ERRORS[key]
        self.fields, self.extra, self.headers = fields, extra or {}, headers or {}
        super().__init__(f"{key}: {self.spec.describe(**fields)}")

    def response(self, content_type: str = protocol.JSON) -> JSONResponse:
        """The JSON answer, with the endpoint's `content_type` unless the error has its own."""
        body = {**self.spec.body(**self.fields), **self.extra}
        return JSONResponse(body, status_code=self.spec.status, headers=self.headers,
                            media_type=self.spec.content_type or content_type)
