"""The one JSON error shape of the API, and the domain exceptions services raise.

Every error response looks like::

    {"error": {"code": "validation_error",
               "message": "Some fields are invalid.",
               "fields": {"tiers.1.unit_price": ["Ensure this value is greater than 0."]}}}

``fields`` is always present (empty when no single field is at fault); nested fields are
flattened to dotted paths so a phone app can point at the exact input.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from .integrity import is_known_violation

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the operation. Services raise these; the API maps them."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "validation_error"  # a rule about the input; subclasses name other kinds

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra  # machine-readable details, e.g. what is still available


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, stale, not allowed now)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


def error_body(code: str, message: str, fields: dict | None = None, **extra: Any) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"a.0.b": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
                path = prefix  # "tiers": "cheap" is an error of tiers itself
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(item) for item in detail]
        else:
            for index, value in enumerate(detail):
                if value:  # DRF puts {} for valid items of a list
                    out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(detail)]
    return out


def _validation_response(fields: dict[str, list[str]]) -> tuple[str, dict]:
    non_field = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, None)
    if non_field and not fields:
        return " ".join(non_field), fields
    if non_field:
        fields[api_settings.NON_FIELD_ERRORS_KEY] = non_field
    return str(_("Some fields are invalid.")), fields


def _is_retryable(exc: OperationalError) -> bool:
    """Deadlock detected or serialization failure (PostgreSQL SQLSTATE 40P01, 40001)."""
    return getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001")


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every error leaves in the one shape, never as a 500 when the
    client is at fault."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        set_rollback()
        body = error_body(exc.code, exc.message, exc.fields, **exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif (
        isinstance(exc, IntegrityError)
        and not isinstance(exc, ProtectedError | RestrictedError)  # Django's, not the database's
        and not is_known_violation(exc)
    ):
        # Not a constraint the models declare (NOT NULL, foreign key): the code wrote
        # something it should not have. A bug, not the client's conflict.
        logger.error("unexpected integrity error: %s", exc, exc_info=exc)
        return None
    elif isinstance(exc, IntegrityError | ProtectedError | RestrictedError):
        # Backstop: services check first, the database constraint decides races.
        logger.warning("integrity error reached the API: %s", exc)
        set_rollback()
        return Response(
            error_body("conflict", _("The request conflicts with existing data.")),
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, OperationalError) and _is_retryable(exc):
        # Backstop: the lock order prevents deadlocks; should one happen, it is the client's
        # to retry (nothing was written), not a server error.
        logger.warning("transaction conflict reached the API: %s", exc)
        set_rollback()
        return Response(
            error_body(
                "retry", _("A concurrent change got in the way; nothing was written, retry.")
            ),
            status=status.HTTP_409_CONFLICT,
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500 (handler500 keeps the shape)

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        message, fields = _validation_response(_flatten(exc.detail))
        body = error_body("validation_error", message, fields)
    else:
        code = exc.get_codes() if not isinstance(exc.detail, dict | list) else exc.default_code
        body = error_body(
            str(code), exc.detail if isinstance(exc.detail, str) else exc.default_detail
        )
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


# Django-level handlers, for URLs outside DRF views (unknown paths, crashes).
def not_found(request, exception=None):
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def server_error(request):
    return JsonResponse(error_body("server_error", _("Internal server error.")), status=500)


def _too_large_body() -> dict:
    return error_body(
        "request_too_large",
        _("The request body is larger than %(limit)s bytes.")
        % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
    )


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):  # raised outside DRF views, e.g. the admin
        return JsonResponse(_too_large_body(), status=413)
    return JsonResponse(error_body("bad_request", _("Bad request.")), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("permission_denied", _("Permission denied.")), status=403)
