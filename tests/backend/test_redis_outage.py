"""During a Redis outage people can still sign in: the cache (and with it the login throttles)
fails open with a logged warning, and /healthz says "degraded". Runs against a Redis server
this test starts and kills itself; the shared one is never touched."""

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis

from backend.cache import redis_cache
from tests.accounts.test_auth import TOKEN_URL
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own on a free port: (process, url)."""
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed"
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "own redis-server did not start"
            time.sleep(0.05)
    yield process, url
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
def on_own_redis(own_redis, settings):
    """The project's cache configuration, pointed at the test's own Redis server."""
    process, url = own_redis
    settings.REDIS_URL = url
    settings.CACHES = {"default": redis_cache(url, key_prefix="outage-test")}
    return process


def login(anon, user):
    return anon.post(TOKEN_URL, {"phone": user.phone, "password": PASSWORD}, format="json")


def test_login_and_health_while_redis_is_up(anon, on_own_redis):
    assert login(anon, UserFactory()).status_code == 201
    health = anon.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["redis"] == "ok"


def test_login_keeps_working_when_redis_goes_away(anon, on_own_redis, caplog):
    person = UserFactory()
    assert login(anon, person).status_code == 201  # the cache is in use: counters written

    on_own_redis.kill()
    on_own_redis.wait(timeout=10)

    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        response = login(anon, person)
        elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert response.json()["token"]
    assert elapsed < 5, f"login took {elapsed:.1f} s during the outage"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "cache" in r.name]
    assert warnings, [r.getMessage() for r in caplog.records]
    assert "unavailable" in warnings[0].getMessage()

    # Wrong passwords are still refused, in the error shape, not a 500.
    wrong = anon.post(TOKEN_URL, {"phone": person.phone, "password": "nope"}, format="json")
    assert wrong.status_code == 400

    health = anon.get("/healthz")
    assert health.status_code == 200  # still serving: not a reason to restart the container
    body = health.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error")


def test_admin_login_keeps_working_when_redis_goes_away(client, on_own_redis):
    """The admin's login form counts attempts in the same cache: it fails open too."""
    staff = UserFactory(role="staff", is_staff=True, is_superuser=True)
    on_own_redis.kill()
    on_own_redis.wait(timeout=10)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.phone, "password": PASSWORD}
    )

    assert response.status_code == 302, response.content.decode()[:300]
    assert client.get("/admin/").status_code == 200


def test_login_keeps_working_when_redis_refuses_writes(anon, on_own_redis, own_redis, caplog):
    """Redis out of memory (or unable to persist: MISCONF, or a read-only replica after a
    failover) still answers, but refuses every write with an error reply, not a dropped
    connection. Losable counters are not worth a 500 either."""
    person = UserFactory()
    _process, url = own_redis
    client = redis.Redis.from_url(url, socket_timeout=1)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1")

    with caplog.at_level(logging.WARNING):
        response = login(anon, person)

    assert response.status_code == 201, response.content
    assert any("unavailable" in r.getMessage() for r in caplog.records if "cache" in r.name)
    health = anon.get("/healthz").json()
    assert health["status"] == "degraded", health
    assert health["redis"].startswith("error"), health
