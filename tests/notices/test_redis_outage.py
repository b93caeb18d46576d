"""A Redis outage during order placement delays notices, never loses them: the order commits
with its outbox rows, queueing them fails (logged), and once Redis is back the sweep queues
them and a worker delivers. Runs on a redis-server this test starts and stops itself."""

import logging
import subprocess
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from kombu import pools

from backend.celery import app as celery_app
from notices import services
from notices.models import Notice
from tests.backend.test_redis_outage import own_redis  # noqa: F401 (fixture)
from tests.conftest import wait_for
from tests.factories import ListingFactory, place_order
from tests.notices.conftest import sent_sms


def _use_broker(url: str) -> None:
    """Point the project's Celery app (publisher and workers) at ``url``, dropping the
    connections it pooled to the previous one."""
    celery_app.conf.broker_url = url
    pools.reset()  # kombu's connection and producer pools, per broker
    celery_app._after_fork()


@pytest.fixture
def broker_on_own_redis(own_redis):  # noqa: F811
    process, url = own_redis
    before = celery_app.conf.broker_url
    _use_broker(url)
    yield process, url
    _use_broker(before)


def _restart(process: subprocess.Popen, url: str) -> subprocess.Popen:
    port = url.rsplit(":", 1)[1].split("/")[0]
    return subprocess.Popen(
        [
            process.args[0],
            "--port",
            port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )


@pytest.mark.django_db(transaction=True)
def test_notices_are_delivered_after_redis_comes_back(
    settings,
    broker_on_own_redis,
    purchaser_user,
    manager_user,
    store,
    cooperative,
    sms_file,
    with_email,
    caplog,
):
    """Three notices to send (the manager's SMS and e-mail, the purchaser's e-mail): the one
    message that would have carried them all is lost, and each is sent once after all."""
    import redis

    process, url = broker_on_own_redis
    settings.NOTICE_SWEEP_AFTER_SECONDS = 0
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))

    process.kill()
    process.wait(timeout=10)
    with caplog.at_level(logging.WARNING, logger="notices.services"):
        order = place_order(purchaser_user, store, (listing, "10"))  # commits; queueing fails

    assert order.pk
    to_send = Notice.objects.exclude(channel="inbox")
    assert sorted(to_send.values_list("channel", "status", "attempts")) == [
        ("email", "pending", 0),
        ("email", "pending", 0),
        ("sms", "pending", 0),
    ]
    assert any("broker unreachable" in r.getMessage() for r in caplog.records)

    restarted = _restart(process, url)
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        assert wait_for(lambda: _pings(client), timeout=10), "redis did not come back"
        _use_broker(url)
        caplog.clear()
        assert services.notices_sweep() == 3, [r.getMessage() for r in caplog.records]
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            assert wait_for(lambda: not to_send.filter(status="pending").exists())
        assert set(to_send.values_list("status", "attempts")) == {("sent", 1)}
        assert [m["phone"] for m in sent_sms(sms_file)] == [manager_user.phone]
        assert sorted(m.to[0] for m in mail.outbox) == [purchaser_user.email, manager_user.email]
    finally:
        restarted.kill()
        restarted.wait(timeout=10)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False
