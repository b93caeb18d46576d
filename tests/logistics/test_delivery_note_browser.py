"""The delivery note and the manifest page in a real browser (Debian's headless Chromium), at
phone width and as A4 print: every fact is on the page and nothing runs off its side.

The page is rendered by the API, with a small script appended that measures the layout (the
page's scroll width against its viewport, and any element whose right edge passes it) and
writes the result and the visible text into an attribute. Headless Chromium will not make a
window narrower than 500 px, so the page is shown in an iframe of the phone's width (its own
viewport: media queries and innerWidth follow it) and the frame's result is copied to the
outer page, which ``--dump-dom`` hands back.
Chromium and the CJK fonts are installed by scripts/ensure_services.sh (``make test``)."""

import html
import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from logistics.services import runs_plan
from tests.logistics.helpers import confirmed_part, daily_schedule

pytestmark = pytest.mark.django_db

MEASURE = """
<script>
(function () {
  var width = window.innerWidth, root = document.documentElement;
  var over = Array.prototype.slice.call(document.querySelectorAll("body *"))
    .filter(function (el) { return el.getBoundingClientRect().right > width + 0.5; })
    .map(function (el) { return el.tagName + "." + el.className; });
  document.body.setAttribute("data-layout", JSON.stringify({
    width: width, scrollWidth: root.scrollWidth, over: over, text: document.body.innerText
  }));
})();
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is missing: run scripts/ensure_services.sh (make test installs it)"
    return path


def browse(page, tmp_path, *args) -> subprocess.CompletedProcess:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:%(width)spx;height:1200px;border:0" srcdoc="%(page)s"
  onload="document.body.setAttribute('data-layout',
          this.contentDocument.body.getAttribute('data-layout'))"></iframe>
</body></html>"""


def layout(page, tmp_path, width: int) -> dict:
    framed = tmp_path / f"framed-{width}.html"
    framed.write_text(FRAME % {"width": width, "page": html.escape(page.read_text())})
    dom = browse(framed, tmp_path, "--window-size=800,1300", "--dump-dom").stdout
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found, dom[:2000]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture
def note_page(manager, purchaser_user, store, manager_user, cooperative, tmp_path):
    """The note of a confirmed part on a run with its shipment, with a long address and
    lot code, as saved by a browser."""
    store.address = "贵阳市南明区新华路富中国际广场负一楼惠民生鲜超市收货区（请从北侧卸货通道进入）"
    store.contact_name, store.contact_phone = "李店长", "+8613900005678"
    store.save()
    part = confirmed_part(
        purchaser=purchaser_user, store=store, manager=manager_user, cooperative=cooperative
    )
    from tests.factories import LotFactory

    LotFactory(listing=part.lines.get().listing, code="SHITUN-HONEY-2026-SPRING-A-000123")
    daily_schedule()
    runs_plan()
    response = manager.get(f"/api/v1/delivery-notes/{part.pk}/")
    assert response.status_code == 200
    page = tmp_path / "note.html"
    page.write_text(response.content.decode().replace("</body>", MEASURE + "</body>"))
    return page, part, store


@pytest.mark.parametrize("width", [320, 360, 400, 703])  # phones, and A4's printable width
def test_the_note_fits_the_width_and_shows_everything(note_page, tmp_path, width):
    page, part, store = note_page
    result = layout(page, tmp_path, width)
    assert result["width"] == width
    assert result["scrollWidth"] <= width, result
    assert result["over"] == [], result
    text = result["text"]
    line = part.lines.get()
    for expected in [
        "送货单",
        part.cooperative.name_zh,
        part.order.organisation.name_zh,
        store.name,
        store.address,
        "李店长",
        line.listing.product.name_zh,
        "SHITUN-HONEY-2026-SPRING-A-000123",
        "10",
        "第 1 站",
        "送货人签字",
        "收货人签字",
        "日期",
    ]:
        assert expected in text, expected


def test_the_note_prints_on_one_a4_page(note_page, tmp_path):
    page, _part, _store = note_page
    pdf = tmp_path / "note.pdf"
    browse(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    # A4 is 595 × 842 points (Chromium writes 594.95996 × 841.91998).
    assert re.search(rb"/MediaBox\s*\[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]", data), data[:600]


# --- the manifest page -------------------------------------------------------------------------
@pytest.fixture
def manifest_page(
    staff,
    staff_user,
    note_page,
    other_purchaser_user,
    other_store,
    other_manager_user,
    other_cooperative,
    tmp_path,
):
    """A run with two stops (two buyers, two cooperatives), the first with its shipment."""
    _page, part, store = note_page
    from django.utils import timezone

    from logistics.services import shipment_record

    start = timezone.now() + timezone.timedelta(days=1)
    shipment_record(
        user=staff_user,
        fulfilment=part,
        mode="carrier",
        carrier_name="贵州长和长远物流",
        tracking_number="CHCY-2026-000000000123456789",
        package_count=24,
        weight_kg=Decimal("312.50"),
        window_start=start,
        window_end=start + timezone.timedelta(hours=3),
    )
    confirmed_part(
        purchaser=other_purchaser_user,
        store=other_store,
        manager=other_manager_user,
        cooperative=other_cooperative,
    )
    runs_plan()
    run = part.run_assignment.run
    response = staff.get(f"/api/v1/delivery-runs/{run.pk}/manifest/?export=html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = tmp_path / "manifest.html"
    page.write_text(response.content.decode().replace("</body>", MEASURE + "</body>"))
    return page, store, other_store


@pytest.mark.parametrize("width", [320, 400, 703])
def test_the_manifest_fits_the_width_and_lists_every_stop(manifest_page, tmp_path, width):
    page, store, other_store = manifest_page
    result = layout(page, tmp_path, width)
    assert result["scrollWidth"] <= width, result
    assert result["over"] == [], result
    text = result["text"]
    for expected in [
        "装车清单",
        "第 1 站",
        "第 2 站",
        store.name,
        store.address,
        other_store.name,
        "CHCY-2026-000000000123456789",
        "24",
        "312.50",
    ]:
        assert expected in text, expected
    assert text.index(store.name) < text.index(other_store.name)  # in stop order


def test_the_manifest_prints_on_a4(manifest_page, tmp_path):
    page, _store, _other = manifest_page
    pdf = tmp_path / "manifest.pdf"
    browse(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1
    assert re.search(rb"/MediaBox\s*\[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]", data)
