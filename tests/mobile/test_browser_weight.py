"""The phone page's weight, as issue 10 sets it: the first load transfers at most 60 KB
compressed, fonts included, and each further screen at most 20 KB. Counted, not timed, so the
test holds on any machine.

What is counted is what Chromium receives over the network: CDP's ``Network.loadingFinished``
``encodedDataLength`` of every request (headers and the body as sent, so compressed), plus the
redirects on the way. The server is the project as production runs it, not pytest-django's
``live_server``: that one serves static files through Django's finders, uncompressed, in front
of the middleware. Here the static files are collected as production collects them (WhiteNoise
writes a .gz beside each) and served by WhiteNoise; the pages by Django behind GZipMiddleware.
The test checks that Chromium did get them gzipped, so the sums are of compressed bytes."""

import datetime
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.test import override_settings
from django.test.testcases import LiveServerThread
from django.utils import timezone
from playwright.sync_api import expect

from orders.services.transitions import fulfilment_confirm, fulfilment_pack
from tests.factories import PASSWORD
from tests.mobile.conftest import placed_part
from tests.mobile.test_browser import open_phone

pytestmark = pytest.mark.django_db(transaction=True)

KB = 1024
FIRST_LOAD = 60 * KB
FURTHER_SCREEN = 20 * KB


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """The static files as ``collectstatic`` leaves them in production (with their .gz)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(root)):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def served(static_root, monkeypatch):
    """The project's WSGI application, middleware and all (WhiteNoise first), in a thread on
    a free port, on the test database. Its URL."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see test_browser.phone_browser
    with override_settings(STATIC_ROOT=str(static_root)):
        # The thread builds the handler (and WhiteNoise reads STATIC_ROOT) as it starts; no
        # static or media wrapper in front of it.
        server = LiveServerThread("127.0.0.1", static_handler=lambda _media: WSGIHandler())
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield f"http://127.0.0.1:{server.port}"
        server.terminate()


@pytest.fixture
def busy_day(manager_user, purchaser_user, store, cooperative):
    """More than a usual morning: eight parts to confirm (one late), three to pack, two to
    ship; and the heaviest screen to open, a part of three lines with its pick list."""
    store.name = "惠民生鲜 新华路店"
    store.save(update_fields=["name"])
    parts = [
        placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
        for _ in range(12)
    ]
    heaviest = placed_part(
        purchaser=purchaser_user, store=store, cooperative=cooperative, quantities=("10",) * 3
    )
    late = parts[0].order
    late.requested_delivery_date = timezone.localdate() - datetime.timedelta(days=1)
    late.save(update_fields=["requested_delivery_date"])
    for part in [heaviest, *parts[8:]]:
        fulfilment_confirm(fulfilment=part, user=manager_user)
    for part in parts[10:]:
        fulfilment_pack(fulfilment=part, user=manager_user)
    return heaviest


class Transfer:
    """Bytes Chromium receives over the network, per request, since the last ``reset()``.
    Answers from the memory cache send no events; from the disk cache, 0 bytes."""

    def __init__(self, page):
        self.page = page
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        self.cdp = cdp
        self.reset()

    def reset(self):
        self.urls, self.types, self.encodings, self.sizes = {}, {}, {}, []
        self.done, self.fonts = set(), 0

    def _sent(self, event):
        redirect = event.get("redirectResponse")
        if redirect:  # a 302 on the way: its own bytes, then the request goes on
            self.sizes.append((redirect["url"], redirect["encodedDataLength"]))
        self.urls[event["requestId"]] = event["request"]["url"]

    def _received(self, event):
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        self.types[event["requestId"]] = event["type"]
        self.encodings[event["response"]["url"]] = headers.get("content-encoding", "")

    def _finished(self, event):
        url = self.urls.get(event["requestId"], "?")
        self.sizes.append((url, event["encodedDataLength"]))
        self.done.add(event["requestId"])
        if self.types.get(event["requestId"]) == "Font":
            self.fonts += 1

    def _failed(self, event):
        self.done.add(event["requestId"])

    def settle(self) -> int:
        """Waits until every request since ``reset()`` has finished (the page on screen does
        not mean the CDP events have all arrived), then answers the total."""
        self.page.wait_for_load_state("networkidle")
        deadline = time.monotonic() + 10
        while not self.urls or set(self.urls) - self.done:
            assert time.monotonic() < deadline, f"still loading: {self.urls}, done: {self.done}"
            self.page.wait_for_timeout(50)  # lets Playwright deliver the events
        return sum(size for _url, size in self.sizes)

    def report(self) -> str:
        return ", ".join(f"{url.split('/', 3)[-1]} {size} B" for url, size in self.sizes)


@pytest.fixture
def phone():
    """A phone's Chromium, 360×740, zh-CN, with an empty cache. Its service worker is
    blocked: what the worker answers from its own cache reaches the page as 0 bytes in CDP,
    which would count nothing, while its own fetches happen out of the page's sight. Without
    it every byte crosses the network here and is counted (pages are network-first in the
    worker anyway; only the shell would come from the phone)."""
    with open_phone(service_workers="block") as page:
        yield page


def test_the_first_load_and_each_further_screen_stay_light(busy_day, served, phone):
    page = phone
    transfer = Transfer(page)

    # The very first load: the address typed, redirected to sign in, nothing cached.
    page.goto(f"{served}/m/")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    sign_in = transfer.settle()
    assert 0 < sign_in <= FIRST_LOAD, transfer.report()
    first_load = transfer.report()
    # Everything came compressed: the page by GZipMiddleware, CSS and htmx by WhiteNoise.
    assert set(transfer.encodings.values()) == {"gzip"}, transfer.encodings
    assert any(url.endswith("/static/mobile/htmx.min.js") for url in transfer.encodings)

    page.get_by_label("手机号").fill("13800000002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="今日")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # Today with an empty cache, as on a phone that signed in yesterday and has since
    # dropped its cache: the page, its CSS and htmx, all counted.
    transfer.cdp.send("Network.clearBrowserCache")
    transfer.reset()
    page.goto(f"{served}/m/")
    expect(page.locator("#group-confirm h2 .badge")).to_have_text("8")
    today = transfer.settle()
    assert 10_000 < today <= FIRST_LOAD, transfer.report()  # htmx alone is over 10 KB
    fetched = {url.rsplit("/", 1)[-1] for url, _size in transfer.sizes}
    assert {"", "mobile.css", "htmx.min.js"} <= fetched, transfer.report()
    assert transfer.fonts == 0  # the system's fonts: nothing to download

    # A further screen, as a manager reaches it: a tap on Today (htmx fetches the page alone).
    transfer.reset()
    page.locator(f'a[href="/m/f/{busy_day.pk}/"]').click()
    expect(page.locator("#pick-list")).to_contain_text("农户2A")
    further = transfer.settle()
    assert 0 < further <= FURTHER_SCREEN, transfer.report()
    assert [url.rsplit("/", 2)[-2] for url, _size in transfer.sizes] == [str(busy_day.pk)]

    # The same screen opened by its address (a reload, a link from a notice), cache warm.
    transfer.reset()
    page.goto(f"{served}/m/f/{busy_day.pk}/")
    expect(page.locator("#pick-list")).to_contain_text("农户2A")
    reopened = transfer.settle()
    assert 0 < reopened <= FURTHER_SCREEN, transfer.report()

    print(  # the README's figures, with pytest -s
        f"\nfirst load {sign_in} B ({first_load}); Today with an empty cache {today} B; "
        f"a fulfilment tapped on Today {further} B; opened again by its address {reopened} B"
    )
