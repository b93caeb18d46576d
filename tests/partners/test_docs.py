"""docs/integration.md cannot rot: its receiver code runs here against the platform's own
signing (and a real delivery), and its event catalog has one example per event type of
notices.catalog, each in the envelope it documents, with the very keys the code sends."""

import datetime
import json
import re
import threading
import time
from http.server import HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from notices import catalog
from partners import signing
from partners.transport import deliver

from .payloads import bodies

DOC = Path(settings.BASE_DIR) / "docs" / "integration.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def example():
    """The doc's receiver module, run as a module (not as __main__: it does not serve)."""
    (code,) = [block for block in _blocks("python") if "verify_shitun_signature" in block]
    namespace = {"__name__": "shitun_receiver_example"}
    exec(compile(code, str(DOC), "exec"), namespace)
    namespace["SECRET"] = "whsec_documented"
    return namespace


def test_the_documented_check_accepts_what_the_platform_signs(example):
    verify = example["verify_shitun_signature"]
    body = '{"id":"evt_1","type":"order.placed","data":{"店":"油榨街店"}}'.encode()
    header = signing.sign("whsec_documented", body)
    assert verify("whsec_documented", body, header)
    assert not verify("whsec_other", body, header)
    assert not verify("whsec_documented", body + b" ", header)
    assert not verify("whsec_documented", body, "")
    stale = signing.sign("whsec_documented", body, timestamp=int(time.time()) - 301)
    assert not verify("whsec_documented", body, stale)
    # Several v1 values: one match is enough, as partners.signing.verify says.
    t, v1 = header.split(",")
    assert verify("whsec_documented", body, f"{t},v1={'0' * 64},{v1}")


@pytest.mark.django_db
def test_the_documented_receiver_takes_a_real_delivery_once(example, endpoint):
    endpoint.secret = example["SECRET"]
    server = HTTPServer(("127.0.0.1", 0), example["ShitunWebhook"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/"
        payload = {"id": "evt_doc", "type": "order.placed", "created_at": "", "data": {}}
        for _ in range(2):  # a retry of the same event is answered, and skipped
            attempt = deliver(
                endpoint, event_id="evt_doc", event_type="order.placed", payload=payload
            )
            assert (attempt.outcome, attempt.status_code) == ("sent", 204)
        assert example["seen_event_ids"] == {"evt_doc"}
        endpoint.secret = "whsec_rotated"  # signed with another secret: refused
        attempt = deliver(endpoint, event_id="evt_2", event_type="order.placed", payload=payload)
        assert (attempt.outcome, attempt.status_code) == ("failed", 400)
    finally:
        server.shutdown()
        server.server_close()


def documented_examples() -> dict[str, dict]:
    documented = re.findall(
        r"^### `([a-z_.]+)`\n\n.*?\n\n```json\n(.*?)```", DOC.read_text(), flags=re.S | re.M
    )
    return {name: json.loads(body) for name, body in documented}


def test_the_catalog_has_an_example_for_every_event_type():
    examples = documented_examples()
    assert set(examples) == {*catalog.PUBLIC_EVENT_TYPES, catalog.PING}
    for name, example in examples.items():
        assert set(example) == {"id", "type", "created_at", "data"}, name
        assert example["type"] == name
        assert isinstance(example["id"], str) and isinstance(example["data"], dict)
    # Buyers subscribe to every order, fulfilment and payment event, and to no statement.
    assert set(catalog.BUYER_SUBSCRIBABLE) == {
        name for name in catalog.PUBLIC_EVENT_TYPES if not name.startswith("statement.")
    }


@pytest.mark.django_db
def test_each_documented_example_has_the_keys_the_code_sends():
    """Built by notices.events from rows, each type's body has the envelope and the data
    keys its example documents (nested ones too), no more and no fewer."""

    def shape(value):
        if isinstance(value, dict):
            return {key: shape(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return None

    examples = documented_examples()
    for name, body in bodies().items():
        assert body["type"] == name
        assert shape(body) == shape(examples[name]), name
        datetime.datetime.fromisoformat(body["created_at"])  # ISO 8601 with its offset
        assert body["created_at"].endswith("+08:00")
