"""How people and partner systems prove who they are.

- People: ``Authorization: Bearer <token>`` from ``POST /api/v1/auth/token/`` (knox tokens,
  stored as digests, with an expiry).
- Partner systems: ``Authorization: Api-Key <key>`` (stored hashed; the key acts as its
  partner account).
"""

import binascii
from datetime import timedelta
from hmac import compare_digest

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import token_cache
from .models import PartnerApiKey


def _with_user(queryset):
    """The account and what every request asks of it (settings.AUTH_USER_RELATED: a buyer's
    membership and organisation), in the credential's own query."""
    return queryset.select_related(
        "user", *(f"user__{path}" for path in settings.AUTH_USER_RELATED)
    )


def authorization_header(request) -> bytes:
    """The Authorization header as bytes. A header that is not even Latin-1 (possible from a
    test client or ASGI, never from a WSGI server) cannot be a credential: 401, not a 500."""
    try:
        return get_authorization_header(request)
    except UnicodeEncodeError as exc:
        raise exceptions.AuthenticationFailed(_("Invalid authorization header.")) from exc


class BearerTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        authorization_header(request)
        self._request = request  # for the token cache's prefetch (one instance per request)
        return super().authenticate(request)

    def authenticate_credentials(self, token: bytes):
        # knox tokens are hex: anything else (undecodable bytes, a NUL that PostgreSQL cannot
        # even compare) is refused before knox decodes it as UTF-8.
        if not (token.isascii() and token.isalnum()):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        # The cache first; else knox's own loop, with the user's related rows in the same query.
        key = token.decode()
        try:
            digest = hash_token(key)
        except (TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        remembered = token_cache.recall(digest, getattr(self, "_request", None))
        if remembered is not None and not _expired(remembered):
            return self.validate_user(remembered)
        for auth_token in _with_user(
            get_token_model().objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH])
        ):
            if self._cleanup_token(auth_token):
                continue
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                _preload(auth_token.user)
                token_cache.remember(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(_("Invalid token."))

    def _cleanup_token(self, auth_token) -> bool:
        # knox sweeps all of the user's tokens on every request (one more query each time);
        # the purge_expired_tokens beat job does that sweep, here only this token counts.
        if _expired(auth_token):
            auth_token.delete()
            return True
        return False


def _preload(user) -> None:
    """Ask what nearly every request of the user asks (settings.AUTH_USER_PRELOAD: which
    cooperatives a manager runs) while the credential is read, so that the answer, kept on
    the user, is remembered with the token and later requests ask no database for it."""
    for path in settings.AUTH_USER_PRELOAD:
        import_string(path)(user=user)


def _expired(auth_token) -> bool:
    return auth_token.expiry is not None and auth_token.expiry < timezone.now()


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        parts = authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key header."))
        try:
            key = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        if "\x00" in key:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        prefix, _dot, _secret = key.partition(".")
        api_key = _with_user(PartnerApiKey.objects.get_usable_keys()).filter(prefix=prefix).first()
        if api_key is None or api_key.has_expired or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("Partner account inactive."))
        _note_use(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword


def _note_use(api_key: PartnerApiKey) -> None:
    """Record when the key was last used, at most once per PARTNER_KEY_LAST_USED_RESOLUTION:
    no write at all while the time read with the key is recent, and a conditional UPDATE
    otherwise, so of many processes using one key at once only one writes."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PARTNER_KEY_LAST_USED_RESOLUTION)
    if api_key.last_used_at is not None and api_key.last_used_at >= stale:
        return
    PartnerApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=api_key.pk
    ).update(last_used_at=now)
    api_key.last_used_at = now


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`",
        }
