"""Greenfield API errors, each turned into one sentence a user can act on.

BTCPay's error bodies (contract §6): ``{"code", "message"}`` for most
statuses, ``missingPermission`` added on 403, and a JSON *array* of
``{"path", "message"}`` on 422. The API key never appears in a message.
"""

from __future__ import annotations

from cftui.errors import AuthError, CftuiError, DataError


class NotFoundError(DataError):
    """404: the invoice, app or webhook does not exist on the server."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ValidationError(DataError):
    """422: the server refused a parameter or body."""

    def __init__(self, message: str, *, errors: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class MissingPermissionError(AuthError):
    """403: the key lacks a permission (or the store is unknown to it)."""

    def __init__(self, message: str, *, missing_permission: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.missing_permission = missing_permission


class RequestError(CftuiError):
    """Any other non-2xx answer that retrying cannot fix (400, 409, ...)."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _field(body: object, key: str) -> str | None:
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def error_for(status: int, body: object, *, store: str, what: str) -> CftuiError:
    """The exception for a non-retryable error answer.

    ``store`` is the config name of the store, ``what`` a short description of
    the request ("listing invoices"), used to make the sentence specific.
    """
    message = _field(body, "message")
    code = _field(body, "code")
    if status == 401:
        return AuthError(
            f"BTCPay rejected the API key for store '{store}' (unauthenticated) while {what}.",
            hint="Check api_key in the config: the key may be wrong, revoked, or its user locked.",
        )
    if status == 403:
        missing = _field(body, "missingPermission")
        need = f"permission '{missing}'" if missing else "a permission it does not have"
        return MissingPermissionError(
            f"The API key for store '{store}' lacks {need} (or cannot see this store) while {what}.",
            missing_permission=missing,
            hint="Create a key in BTCPay (Account > API Keys) with that permission for this store, "
            "and check store_id in the config.",
        )
    if status == 404:
        return NotFoundError(
            f"BTCPay store '{store}' has no such resource ({code or 'not found'}) while {what}.", code=code
        )
    if status == 422:
        errors = _validation_errors(body)
        listed = "; ".join(f"{path}: {msg}" for path, msg in errors) or "no details given"
        return ValidationError(f"BTCPay store '{store}' refused the request while {what} ({listed}).", errors=errors)
    detail = f": {message}" if message else ""
    return RequestError(
        f"BTCPay store '{store}' answered HTTP {status} while {what}{detail}.", status=status, code=code
    )


def _validation_errors(body: object) -> list[tuple[str, str]]:
    if not isinstance(body, list):
        return []
    out = []
    for item in body:
        if isinstance(item, dict):
            out.append((str(item.get("path") or "?"), str(item.get("message") or "invalid")))
    return out
