"""The page without a signal: the service worker that keeps the page shell and the pages the
manager opened (``mobile/sw.js``). Actions taken offline are kept and sent again by
``mobile/static/mobile/offline.js``; the server applies each once by its Idempotency-Key
(``mobile.pages.run_once``), so sending again is always safe."""

import functools
import hashlib
import json
from pathlib import Path

from django.contrib.staticfiles import finders
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

# The page shell: what every screen loads, kept so a screen opens offline.
SHELL = ("mobile/mobile.css", "mobile/htmx.min.js", "mobile/offline.js")


@functools.cache
def _shell_version() -> str:
    """Changes when a shell file does (a deploy restarts the process): the worker then keeps
    the new files under a new cache name and drops the old one."""
    digest = hashlib.sha256()
    for name in SHELL:
        digest.update(Path(finders.find(name)).read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request):
    """Served from /m/ so its scope is the whole page (a worker's scope is at most its own
    folder), and revalidated at every visit so a new shell reaches the phones."""
    scope = reverse("mobile:today")
    response = render(
        request,
        "mobile/sw.js",
        {
            "shell": json.dumps([static(name) for name in SHELL]),
            "version": _shell_version(),
            "scope": json.dumps(scope),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = scope
    response["Cache-Control"] = "no-cache"
    return response
