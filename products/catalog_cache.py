"""The listing list's rendered pages, cached under a catalog version.

Partner systems poll the whole catalog and phones page through it; most of those requests
ask for pages nothing has changed since the last time. A page is stored under a key made of
who may see it (``access.listing_cache_scope``: only the scope buyers and partner systems
share; managers and staff are never cached), the media type and the full URL (host, query
string, cursor), so every distinct answer has its own key, together with the catalog version
it was built under; a page of another version is a miss.

The version is a random token in the cache (Redis), replaced whenever anything a listing page
shows or filters on is written: a listing (stock included: ``products/stock.py`` saves the
row), its tiers and certifications, a certification, product, category or cooperative. The
receivers below catch every save and delete of those models, wherever it comes from (services,
stock moves, the admin, the demo loader); code that writes them in bulk without signals calls
``catalog_changed()`` itself.

Exact: a change shows on every request that starts after the writing request has answered.

- the new version is set after the writing transaction commits, so whoever reads it also
  reads the committed rows; a reader that took the old version just before stores its page
  marked with the old version, which no reader accepts again;
- a request whose own connection holds uncommitted catalog changes neither reads nor stores
  pages (only possible inside one transaction, as in tests);
- a missing version (evicted, Redis restarted) becomes a fresh random one, never a reused
  value, so no old page can match it.

Only with a shared cache: the embedded default's LocMem cache is per process, where one
worker's version cannot reach the other, so ``CATALOG_PAGE_CACHE_SECONDS`` is 0 there and
every request is built. When Redis cannot be reached the cache fails open: pages are built
(a miss) and nothing is stored. The one case not exact: Redis unreachable at the moment a
change commits but back with its old data afterwards; pages it held then live at most
``CATALOG_PAGE_CACHE_SECONDS`` (docs/architecture.md).
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string

from backend.cache import prefetched_get

VERSION_KEY = "catalog:version"


def enabled() -> bool:
    return settings.CATALOG_PAGE_CACHE_SECONDS > 0


def catalog_changed(**_signal) -> None:
    """Something a listing page shows has been written: a new catalog version once the
    transaction commits (at once outside one). One per transaction, however many rows."""
    if not enabled():
        return
    if not connection.in_atomic_block:
        _new_version()
    elif not _change_pending():
        transaction.on_commit(_new_version)


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _change_pending() -> bool:
    """Has this connection's open transaction written catalog rows (not yet committed)?"""
    return any(func is _new_version for _savepoints, func, _robust in connection.run_on_commit)


class Page:
    """One page's place in the cache: its key and the catalog version it must carry; on a hit
    (or once stored) the rendered body, its gzip form and its ETag, made once when stored
    rather than on every answer."""

    __slots__ = ("body", "etag", "gzipped", "key", "version")

    def __init__(self, key: str, version: str, stored: tuple | None = None):
        self.key, self.version = key, version
        self.body, self.gzipped, self.etag = stored or (None, None, None)

    def store(self, body: bytes) -> None:
        # As ConditionalGetMiddleware and GZipMiddleware would make them. The gzip bytes are
        # then the same for every answer of this page (the middleware varies them against
        # BREACH): the page holds no secret, only the catalog every buyer sees.
        self.body = body
        self.etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        gzipped = None
        if len(body) >= GZIP_MIN_LENGTH:
            gzipped = compress_string(body, max_random_bytes=GZipMiddleware.max_random_bytes)
        self.gzipped = gzipped if gzipped is not None and len(gzipped) < len(body) else None
        cache.set(
            self.key,
            (self.version, (self.body, self.gzipped, self.etag)),
            timeout=settings.CATALOG_PAGE_CACHE_SECONDS,
        )

    def response(self, request, *, content_type: str) -> HttpResponse:
        """The answer the middleware would give for this body (ETag, gzip when accepted),
        without hashing or compressing it again: those middleware leave it as it is."""
        response = HttpResponse(self.body, content_type=content_type)
        response.headers["ETag"] = f'"{self.etag}"'
        if self.gzipped is not None:
            patch_vary_headers(response, ("Accept-Encoding",))
            if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
                response.content = self.gzipped
                response.headers["Content-Length"] = str(len(self.gzipped))
                response.headers["ETag"] = f'W/"{self.etag}"'
                response.headers["Content-Encoding"] = "gzip"
        return response


GZIP_MIN_LENGTH = 200  # GZipMiddleware's: shorter answers are not compressed


def page_keys(*, scope: str, url: str, media_type: str) -> list[str]:
    """The cache keys a page lookup reads: the version and the page."""
    digest = hashlib.sha256(f"{scope}\n{media_type}\n{url}".encode()).hexdigest()
    return [VERSION_KEY, f"catalog:page:{digest}"]


def page_lookup(*, scope: str | None, url: str, media_type: str, request=None) -> Page | None:
    """The page for users of ``scope`` at ``url`` (body None on a miss), or None when this
    answer must be built and not stored. The version and the page are read together (in one
    round trip, or from the request's prefetch), and a page stored under another version is a
    miss (it is overwritten)."""
    if scope is None or not enabled() or _change_pending():
        return None
    keys = page_keys(scope=scope, url=url, media_type=media_type)
    key = keys[1]
    if set(keys) <= set(getattr(request, "_cache_prefetched", ())):
        found = {name: prefetched_get(request, name) for name in keys}
    else:
        found = cache.get_many(keys)
    version = found.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # False: Redis is unreachable, or a writer set a version meanwhile; build this one.
        if not cache.add(VERSION_KEY, version, timeout=None):
            return None
    stored_version, stored = found.get(key) or (None, None)
    return Page(key, version, stored if stored_version == version else None)


def connect() -> None:
    """Called once from ProductsConfig.ready()."""
    from suppliers.models import Cooperative

    from .models import Category, Certification, Listing, PriceTier, Product

    for model in (Listing, PriceTier, Certification, Product, Category, Cooperative):
        label = model._meta.label_lower
        post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-save-{label}")
        post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-del-{label}")
    m2m_changed.connect(
        catalog_changed,
        sender=Listing.certifications.through,
        dispatch_uid="catalog-listing-certifications",
    )
