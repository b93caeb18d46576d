"""Bearer tokens remembered in the cache for a short while, so a request signed with a token
seen recently costs no database round trip (the listing list, answered from its page cache,
then touches no database at all).

An entry is keyed by the token's SHA-512 digest (what the database keeps; never the token)
and holds the token row with its user, as read from the database. Revoking must stay
immediate, so every write that could change the answer forgets the entries first:

- a token deleted (sign-out, sign-out everywhere, the per-user cap, expiry sweeps, a user
  deleted) or saved (knox renewing its expiry);
- a user saved (deactivated, role changed, …), except a save of ``last_login`` alone.

They are forgotten twice: just before the write, and again once it commits (a concurrent
request may have remembered the old row in between). The first is strict: if the cache
cannot be reached, the write is refused (409 ``retry``, nothing written) rather than leave an
entry that a Redis coming back would still answer. Expiry is checked on every use.
Writes that bypass signals (``QuerySet.update()`` of users or tokens) must forget themselves:
the services use ``save()`` and ``delete()``.

Only with a shared cache (``AUTH_TOKEN_CACHE_SECONDS`` is 0 without Redis: LocMem is per
process, and one worker could not tell the other to forget).
"""

import copy

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import hash_token
from knox.settings import knox_settings

from backend.cache import prefetched_get


def enabled() -> bool:
    # knox's AUTO_REFRESH writes the expiry on use: that needs the row, every time.
    return settings.AUTH_TOKEN_CACHE_SECONDS > 0 and not knox_settings.AUTO_REFRESH


def _key(digest: str) -> str:
    return f"auth:token:{digest}"


def recall(digest: str, request=None):
    """The token row (with its user) remembered for this digest, or None."""
    return prefetched_get(request, _key(digest)) if enabled() else None


def request_key(request) -> str | None:
    """The cache key of the bearer token a request is signed with (for backend.cache's
    prefetch), or None; the authentication class judges the header, not this."""
    if not enabled():
        return None
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].isascii():
        return None
    try:
        return _key(hash_token(parts[1]))
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        return None


def remember(auth_token) -> None:
    """Keep the token row and its user, without the user's password hash: it has no business
    in a cache. The copy's password is a deferred field, so reading it costs a query and a
    save() of the user leaves it as it is."""
    if enabled():
        entry = copy.copy(auth_token)
        user = copy.copy(auth_token.user)
        user.__dict__.pop("password", None)
        entry.user = user
        cache.set(_key(entry.digest), entry, timeout=settings.AUTH_TOKEN_CACHE_SECONDS)


def forget(digests: list[str]) -> None:
    """Before a write: forget these tokens, or refuse the write (raise) if the cache cannot be
    reached: an entry left behind would outlive the revocation."""
    if not enabled() or not digests:
        return
    strict = getattr(cache, "delete_many_strict", cache.delete_many)
    try:
        strict([_key(digest) for digest in digests])
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


def forget_after_commit(digests: list[str]) -> None:
    """After the write: forget them once more when it commits (at once outside a
    transaction), for a request that remembered the old row in between."""
    if enabled() and digests:
        keys = [_key(digest) for digest in digests]
        transaction.on_commit(lambda: cache.delete_many(keys))


def _live_digest(token) -> list[str]:
    # An expired token is refused on use whatever the cache holds: deleting one (the sweeps)
    # needs no cache, so it works while Redis is down.
    expired = token.expiry is not None and token.expiry < timezone.now()
    return [] if expired or token._state.adding else [token.digest]


def _token_writing(sender, instance, **kwargs):
    forget(_live_digest(instance))


def _token_written(sender, instance, created=False, **kwargs):
    if not created:
        forget_after_commit([instance.digest])


def _user_saving(sender, instance, update_fields=None, **kwargs):
    if not enabled() or instance._state.adding:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in: nothing the token check reads
    from knox.models import AuthToken

    digests = list(AuthToken.objects.filter(user_id=instance.pk).values_list("digest", flat=True))
    forget(digests)
    instance._forget_token_digests = digests


def _user_saved(sender, instance, **kwargs):
    forget_after_commit(instance.__dict__.pop("_forget_token_digests", []))


def _digests_of(user_ids) -> list[str]:
    from knox.models import AuthToken

    return list(AuthToken.objects.filter(user_id__in=user_ids).values_list("digest", flat=True))


def watch(model, users_of) -> None:
    """Forget the tokens of ``users_of(instance)`` (user ids) around every save or delete of
    ``model``: for rows the authentication query reads with the user
    (settings.AUTH_USER_RELATED, a buyer's membership and organisation), which a remembered
    token carries too. Strictly before the write, again after it commits, as for users."""

    def before(sender, instance, **kwargs):
        # New rows too: a remembered token may carry "no membership yet".
        if enabled():
            digests = _digests_of(users_of(instance))
            forget(digests)
            instance._forget_token_digests = digests

    def after(sender, instance, **kwargs):
        forget_after_commit(instance.__dict__.pop("_forget_token_digests", []))

    for signal, receiver in (
        (pre_save, before),
        (pre_delete, before),
        (post_save, after),
        (post_delete, after),
    ):
        signal.connect(
            receiver, sender=model, weak=False, dispatch_uid=f"token-cache-{signal}-{model}"
        )


def watch_many_to_many(through, users_of) -> None:
    """Forget the tokens of ``users_of(instance, reverse, pk_set)`` (user ids) around every
    change of a many-to-many relation that a remembered user carries (a manager's
    cooperatives, settings.AUTH_USER_PRELOAD): strictly before it, again after it commits.
    Deleting a row of either side removes its links without this signal; the ids left in
    a remembered user then name a row that no longer exists, which grants nothing."""

    def changed(sender, instance, action, reverse, pk_set, **kwargs):
        if not enabled():
            return
        if action.startswith("pre_"):
            digests = _digests_of(users_of(instance, reverse, pk_set))
            forget(digests)
            instance._forget_token_digests = digests
        elif action.startswith("post_"):
            forget_after_commit(instance.__dict__.pop("_forget_token_digests", []))

    m2m_changed.connect(
        changed, sender=through, weak=False, dispatch_uid=f"token-cache-m2m-{through}"
    )


def connect() -> None:
    """Called once from AccountsConfig.ready(). Strictly before each write (pre_*), once
    more after it (post_*)."""
    from knox.models import AuthToken

    from .models import User

    for signal, receiver, sender in (
        (pre_save, _token_writing, AuthToken),
        (pre_delete, _token_writing, AuthToken),
        (post_save, _token_written, AuthToken),
        (post_delete, _token_written, AuthToken),
        (pre_save, _user_saving, User),
        (post_save, _user_saved, User),
    ):
        signal.connect(receiver, sender=sender, dispatch_uid=f"token-cache-{signal}-{sender}")
