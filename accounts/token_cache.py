"""Bearer tokens remembered in the cache for a short while, so a request signed with a token
seen recently costs no database round trip (the listing list, answered from its page cache,
then touches no database at all).

An entry is keyed by the token's SHA-512 digest (what the database keeps; never the token)
and holds the token row with its user, as read from the database. Revoking must stay
immediate, so every write that could change the answer forgets the entries first:

- a token deleted (sign-out, sign-out everywhere, the per-user cap, expiry sweeps, a user
  deleted) or saved (knox renewing its expiry);
- a user saved (deactivated, role changed, …), except a save of ``last_login`` alone.

They are forgotten twice: inside the writing transaction, and again after it commits (a
concurrent request may have remembered the row in between). The first is strict: if the
cache cannot be reached, the write is refused (409 ``retry``, nothing written) rather than
leave an entry that a Redis coming back would still answer. Expiry is checked on every use.
Writes that bypass signals (``QuerySet.update()`` of users or tokens) must forget themselves:
the services use ``save()`` and ``delete()``.

Only with a shared cache (``AUTH_TOKEN_CACHE_SECONDS`` is 0 without Redis: LocMem is per
process, and one worker could not tell the other to forget).
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.settings import knox_settings


def enabled() -> bool:
    # knox's AUTO_REFRESH writes the expiry on use: that needs the row, every time.
    return settings.AUTH_TOKEN_CACHE_SECONDS > 0 and not knox_settings.AUTO_REFRESH


def _key(digest: str) -> str:
    return f"auth:token:{digest}"


def recall(digest: str):
    """The token row (with its user) remembered for this digest, or None."""
    return cache.get(_key(digest)) if enabled() else None


def remember(auth_token) -> None:
    if enabled():
        cache.set(_key(auth_token.digest), auth_token, timeout=settings.AUTH_TOKEN_CACHE_SECONDS)


def forget(digests: list[str]) -> None:
    """Forget these tokens now and once more after commit; refuse the write if the cache
    cannot be reached (an entry left behind would outlive the revocation)."""
    if not enabled() or not digests:
        return
    keys = [_key(digest) for digest in digests]
    strict = getattr(cache, "delete_many_strict", cache.delete_many)
    try:
        strict(keys)
    except ConnectionError as exc:
        # Imported here: backend.errors imports DRF's views, which import this module's
        # authentication class through the settings.
        from backend.errors import Conflict

        refusal = Conflict(
            str(
                _(
                    "Signing out or changing an account needs the cache, which cannot be "
                    "reached; nothing was written, retry."
                )
            )
        )
        refusal.code = "retry"  # as for a deadlock: nothing was written, the client retries
        raise refusal from exc
    transaction.on_commit(lambda: cache.delete_many(keys))


def _token_written(sender, instance, created=False, **kwargs):
    # An expired token is refused on use whatever the cache holds: deleting one (the sweeps)
    # needs no cache, so it works while Redis is down.
    expired = instance.expiry is not None and instance.expiry < timezone.now()
    if not created and not expired:
        forget([instance.digest])


def _user_saved(sender, instance, created=False, update_fields=None, **kwargs):
    if (
        not enabled()
        or created
        or (update_fields is not None and set(update_fields) <= {"last_login"})
    ):
        return
    from knox.models import AuthToken

    forget(list(AuthToken.objects.filter(user_id=instance.pk).values_list("digest", flat=True)))


def connect() -> None:
    """Called once from AccountsConfig.ready()."""
    from knox.models import AuthToken

    from .models import User

    post_save.connect(_token_written, sender=AuthToken, dispatch_uid="token-cache-token-save")
    post_delete.connect(_token_written, sender=AuthToken, dispatch_uid="token-cache-token-del")
    post_save.connect(_user_saved, sender=User, dispatch_uid="token-cache-user-save")
