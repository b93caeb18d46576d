"""Each partner API key is limited to PARTNER_KEY_RATE_LIMIT requests per window, counted in
Redis; over it, 429 with Retry-After in the one error shape; with Redis down, the limit fails
open (a logged warning, never a 500)."""

import logging
import socket
import subprocess
import time

import pytest
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey
from partners import throttles
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db

PATH = "/api/v1/products/"


def key_client(user) -> APIClient:
    _key, plain = PartnerApiKey.objects.create_key(user=user, name="rate")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


@pytest.fixture
def limit_of_three(settings):
    settings.PARTNER_KEY_RATE_LIMIT = "3/hour"  # a window no test run straddles twice


def test_over_the_limit_is_a_429_with_retry_after(limit_of_three, partner_user):
    client = key_client(partner_user)
    assert [client.get(PATH).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(PATH)
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 2 * 3600


def test_each_key_has_its_own_count(limit_of_three, partner_user):
    first, second = key_client(partner_user), key_client(partner_user)
    for _ in range(3):
        first.get(PATH)
    assert first.get(PATH).status_code == 429
    assert second.get(PATH).status_code == 200


def test_people_are_not_counted(limit_of_three, purchaser):
    assert {purchaser.get(PATH).status_code for _ in range(5)} == {200}


def test_a_refused_request_is_not_counted():
    """A client that waits as told gets in: refusals do not push the window further."""
    store = throttles.LocalWindows()
    assert [store.hit("k", 2, 3600).allowed for _ in range(5)] == [True, True, False, False, False]
    assert store.counts == {("k", int(time.time() // 3600)): 2}


def test_the_sliding_window_weighs_the_previous_one():
    """Just after a window full to the limit, its count still weighs almost fully."""
    # 10 in the previous window, 0 now, 10% into this one: 9 count, one more passes.
    assert throttles._wait(10, 60, 0.1, 0, 10) == 0.0
    # 10 previous, 1 now, 10% in: 9 + 1 = 10, full until the previous weighs under 9.
    assert throttles._wait(10, 60, 0.1, 1, 10) == pytest.approx(0.0)
    wait = throttles._wait(10, 60, 0.1, 5, 10)  # 9 + 5: until 10·(1 − e) < 5, e = 0.5
    assert wait == pytest.approx(0.4 * 60)
    # Full on its own: this window's end, then until its weight drops under the limit.
    assert throttles._wait(10, 60, 0.5, 20, 0) == pytest.approx(30 + 30)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_unreachable_fails_open_with_a_warning(settings, partner_user, caplog):
    settings.PARTNER_KEY_RATE_LIMIT = "1/hour"
    settings.PARTNER_RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    client = key_client(partner_user)
    with caplog.at_level(logging.WARNING, logger="partners.throttles"):
        statuses = [client.get(PATH).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "failing open" in caplog.text


def test_the_limit_holds_again_when_redis_comes_back(settings, partner_user, tmp_path):
    """A Redis server of the test's own: stopped, the limit fails open; started again on the
    same port, it counts again once the pause after a failure is over."""
    port = _closed_port()
    settings.PARTNER_KEY_RATE_LIMIT = "2/hour"
    settings.PARTNER_RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{port}/0"
    client = key_client(partner_user)

    def redis_server():
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                return process
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    server = redis_server()
    try:
        assert [client.get(PATH).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        server.terminate()
        server.wait()
    assert [client.get(PATH).status_code for _ in range(3)] == [200, 200, 200]  # open

    server = redis_server()
    try:
        throttles.windows().down_until = 0.0  # the pause after a failure, over
        statuses = [client.get(PATH).status_code for _ in range(3)]
    finally:
        server.terminate()
        server.wait()
    assert statuses == [200, 200, 429]  # an empty Redis: counting from zero again
