"""Issue 11: a Python client generated from the live schema with openapi-python-client works
end to end. The README's tour runs through it with no raw HTTP, on the demo data, against a
live server: log in, list listings, place an order with an Idempotency-Key, read it, confirm
it as the cooperative's manager, read the events; then the partner-key path.

The client raises on any status the schema does not document, and parsing every answer into
the generated models fails wherever the schema lies (an enum value it leaves out, a null it
does not allow, a decimal documented as a number).

Run just these with `pytest -m generated_client`."""

import contextlib
import uuid
from decimal import Decimal

import pytest

from demo.data import PARTNER_API_KEY, PASSWORD, load_demo
from tests.clients.generated import GeneratedApi, call, fetch_schema, generate

pytestmark = [pytest.mark.generated_client, pytest.mark.django_db(transaction=True)]

BUYER = "13800000004"  # 张丽, Nanming farmers' market
HONEY_MANAGER = "13800000002"  # 王建华, the honey cooperative
TOKEN = "/api/v1/auth/token/"
LISTINGS = "/api/v1/listings/"
STORES = "/api/v1/stores/"
ORDERS = "/api/v1/orders/"
ORDER = "/api/v1/orders/{id}/"
EVENTS = "/api/v1/orders/{id}/events/"
FULFILMENTS = "/api/v1/fulfilments/"
FULFILMENT = "/api/v1/fulfilments/{id}/"
CONFIRM = "/api/v1/fulfilments/{id}/confirm/"


@pytest.fixture(scope="session")
def api(live_server, tmp_path_factory) -> GeneratedApi:
    """Generated once per session: the schema does not depend on the data."""
    url = f"{live_server.url}/api/schema/"
    package = generate(url, tmp_path_factory.mktemp("generated_client"))
    return GeneratedApi(package, fetch_schema(url))


@pytest.fixture
def demo():
    assert load_demo() is True


@pytest.fixture
def connect(api, live_server):
    """Clients of the generated package, raising on any status the schema leaves out. They
    are closed after the test: a kept-alive connection holds its server thread, and with it a
    database connection that would stop the test database from being dropped."""
    with contextlib.ExitStack() as stack:

        def client(token=None, prefix="Bearer"):
            options = {"base_url": live_server.url, "raise_on_unexpected_status": True}
            if token is None:
                return stack.enter_context(api.Client(**options))
            return stack.enter_context(
                api.AuthenticatedClient(token=token, prefix=prefix, **options)
            )

        yield client


def sign_in(api, connect, phone):
    body = api.body("POST", TOKEN)(phone=phone, password=PASSWORD)
    token = call(api, "POST", TOKEN, client=connect(), body=body, expect=201).parsed.token
    return connect(token)


def tour_lines(listings):
    """The README's order: 10 cases of honey and 20 kg of grade-one tongcao."""
    honey = next(item for item in listings if str(item.unit) == "case")
    tongcao = next(item for item in listings if item.product_name_en.startswith("Tongcao ("))
    return [(honey.id, "10"), (tongcao.id, "20")]


def place_order(api, client, store, lines, key, expect=201):
    Line = api.items_model("POST", ORDERS, "lines")
    body = api.body("POST", ORDERS)(
        store=store, lines=[Line(listing=pk, quantity=quantity) for pk, quantity in lines]
    )
    return call(api, "POST", ORDERS, client=client, body=body, idempotency_key=key, expect=expect)


def test_readme_tour_through_the_generated_client(api, connect, demo):
    buyer = sign_in(api, connect, BUYER)

    listings = call(api, "GET", LISTINGS, client=buyer, page_size=100).parsed.results
    statuses = {item.status.value for item in listings}
    assert "sold_out" in statuses, statuses  # the tongcao slices have no lot yet
    assert all(isinstance(item.base_price, str) for item in listings)  # decimals as strings

    lots = call(api, "GET", "/api/v1/lots/", client=buyer).parsed.results
    assert lots and all(lot.households is None for lot in lots)  # named households: not buyers'
    refused = call(api, "GET", "/api/v1/households/", client=buyer, expect=403).parsed
    assert refused.error.code == "permission_denied"

    stores = call(api, "GET", STORES, client=buyer).parsed.results
    key = str(uuid.uuid4())
    lines = tour_lines(listings)
    placed = place_order(api, buyer, stores[0].id, lines, key)
    order = placed.parsed
    assert len(order.fulfilments) == 2

    # A retry with the same key answers the original order and places nothing twice.
    replay = place_order(api, buyer, stores[0].id, lines, key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.parsed.id == order.id
    # The same key with another body is refused, in the one error shape the schema names.
    reused = place_order(api, buyer, stores[0].id, lines[:1], key, expect=422)
    assert reused.parsed.error.code == "idempotency_key_reused"

    read = call(api, "GET", ORDER, client=buyer, id=order.id).parsed
    assert (read.id, read.total) == (order.id, order.total)
    mine = call(api, "GET", ORDERS, client=buyer).parsed.results
    assert order.id in {item.id for item in mine}

    manager = sign_in(api, connect, HONEY_MANAGER)
    placed_status = api.parameter_enum("GET", FULFILMENTS, "status")("placed")
    waiting = call(api, "GET", FULFILMENTS, client=manager, status=placed_status).parsed.results
    part = next(item for item in waiting if item.order == order.id)
    detail = call(api, "GET", FULFILMENT, client=manager, id=part.id).parsed
    assert detail.pick_list, "the pick list names lots and households"
    confirmed = call(
        api, "POST", CONFIRM, client=manager, id=part.id, body=api.body("POST", CONFIRM)()
    ).parsed
    assert confirmed.status.value == "confirmed"

    events = call(api, "GET", EVENTS, client=buyer, id=order.id).parsed
    moves = [event.to_status for event in events if event.fulfilment == part.id]
    assert moves[-1] == "confirmed", moves


def test_partner_key_path_through_the_generated_client(api, connect, demo):
    partner = connect(PARTNER_API_KEY, prefix="Api-Key")

    assert call(api, "GET", "/api/v1/products/", client=partner).parsed.results
    listings = call(api, "GET", LISTINGS, client=partner, page_size=100).parsed.results
    stores = call(api, "GET", STORES, client=partner).parsed.results

    lines = tour_lines(listings)
    honey = next(item for item in listings if item.id == lines[0][0])
    too_much = [(honey.id, str(Decimal(honey.available_quantity) + 1))]
    short = place_order(api, partner, stores[0].id, too_much, str(uuid.uuid4()), expect=409)
    assert short.parsed.error.code == "insufficient_stock"

    placed = place_order(api, partner, stores[0].id, lines, str(uuid.uuid4()))
    order = call(api, "GET", ORDER, client=partner, id=placed.parsed.id).parsed
    assert order.id == placed.parsed.id
    assert call(api, "GET", EVENTS, client=partner, id=order.id).parsed
