"""Benchmark: notices from the outbox, delivered by real Celery workers to a local receiver.

    make benchmark                      # uses DATABASE_URL and REDIS_URL like `make test`
    .venv/bin/python benchmarks/notices.py --orders 300 --workers 2

What it measures, on a database of its own ("<DATABASE_URL's database>_bench_notices"):
1. seeds a cooperative (its manager has an e-mail address), a buyer organisation (its
   purchaser too), a store and a listing with plenty of stock;
2. starts a Celery worker process (prefork, --workers) on the project's app and broker
   (REDIS_URL), sending e-mail over SMTP to a receiver this script runs on 127.0.0.1 (it
   speaks just enough SMTP to accept a message and counts them) and SMS to a file;
3. places --orders orders through the service, one after another; each commits its outbox
   rows (the manager's inbox, SMS and e-mail, the purchaser's inbox and e-mail, and a signed
   webhook to the organisation's endpoint, an HTTP receiver on 127.0.0.1 that verifies each
   signature: tests/partners/receiver.py) and queues the four to send after commit;
4. waits until every queued notice is sent, and prints: notices delivered per second (from
   the first order's commit to the last delivery), e-mails and webhooks the receivers
   accepted, and the delay from the event (the row written with the order) to delivery (the
   row marked sent after the receiver's answer), p50 and p99, for e-mail, SMS and webhook.

Not a test: the figures depend on the machine and what else runs on it.
"""

import argparse
import os
import socketserver
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from common import ROOT, drop_database, free_port, percentile, setup_django

SUFFIX = "_bench_notices"


class SmtpSink(socketserver.ThreadingTCPServer):
    """Accepts every message (EHLO, MAIL, RCPT, DATA, QUIT) and counts them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), SmtpHandler)
        self.received = 0
        self.lock = threading.Lock()


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 sink ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 sink")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b".\n", b""):
                    pass
                with self.server.lock:
                    self.server.received += 1
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=300)
    return parser.parse_args()


def seed():
    from accounts.models import User
    from buyers.models import Membership
    from notices.models import Notice
    from tests.factories import (
        BuyerOrganisationFactory,
        CooperativeFactory,
        ListingFactory,
        MembershipFactory,
        StoreFactory,
        UserFactory,
    )

    Notice.objects.all().delete()
    cooperative = CooperativeFactory()
    manager = UserFactory(role=User.Role.COOPERATIVE_MANAGER, email="hezuoshe@example.cn")
    cooperative.managers.add(manager)
    organisation = BuyerOrganisationFactory()
    store = StoreFactory(organisation=organisation)
    purchaser = MembershipFactory(
        organisation=organisation,
        role=Membership.Role.PURCHASER,
        user__email="caigou@example.cn",
    ).user
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("1000000"))
    return purchaser, store, listing, organisation


def add_endpoint(organisation, receiver):
    """The organisation's system, subscribed to order.placed (created without the URL guard:
    the receiver is on loopback, which the worker is allowed to reach here)."""
    from partners.models import WebhookEndpoint
    from partners.signing import new_secret

    receiver.secret = new_secret()
    return WebhookEndpoint.objects.create(
        organisation=organisation,
        url=receiver.url(),
        event_types=["order.placed"],
        secret=receiver.secret,
    )


def start_worker(workers: int, smtp_port: int, sms_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SMS_FILE_PATH": str(sms_path),
        "SMS_BACKEND": "notices.sms.ConsoleSmsBackend",
        "PARTNER_WEBHOOKS_ALLOW_LOOPBACK": "true",
    }
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [
            *(str(celery), "-A", "backend", "worker", "-P", "prefork", "-c", str(workers)),
            *("--loglevel", "WARNING", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    args = parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the worker takes its tasks from Redis.")
    # The seed comes from the test factories, whose numbering starts again in every process:
    # a second run on the first run's rows would collide with them.
    drop_database(SUFFIX)
    setup_django(suffix=SUFFIX, cache_prefix="bench-notices")
    from django.conf import settings
    from django.db.models import Min

    from backend.celery import app

    app.control.purge()  # messages of an earlier run name notices of the database just dropped

    from notices.models import Notice
    from tests.factories import place_order
    from tests.partners import receiver as receivers

    smtp_port = free_port()
    sink = SmtpSink(smtp_port)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sms_path = Path(settings.VAR_DIR) / "bench-notices-sms.jsonl"
    sms_path.parent.mkdir(exist_ok=True)
    sms_path.unlink(missing_ok=True)
    purchaser, store, listing, organisation = seed()
    receiver = receivers.start()
    add_endpoint(organisation, receiver)
    worker = start_worker(args.workers, smtp_port, sms_path)
    try:
        time.sleep(3)  # the worker connects to the broker
        started = time.perf_counter()
        for _ in range(args.orders):
            place_order(purchaser, store, (listing, "10"))
        placed_in = time.perf_counter() - started
        queued = Notice.objects.exclude(channel="inbox")
        deadline = time.monotonic() + args.timeout
        while queued.filter(status="pending").exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                print("not every notice was delivered in time", file=sys.stderr)
                return 1
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        sink.shutdown()
        receivers.stop(receiver)

    sent = list(queued.values_list("channel", "created_at", "sent_at"))
    first = queued.aggregate(first=Min("created_at"))["first"]
    last = max(sent_at for _c, _e, sent_at in sent)
    seconds = (last - first).total_seconds()
    print(
        f"notices: {args.orders} orders placed in {placed_in:.1f} s; {len(sent)} notices "
        f"delivered by {args.workers} worker processes "
        f"({sink.received} e-mails accepted by the local SMTP receiver, "
        f"{sum(d.verified for d in receiver.deliveries)} signed webhooks verified by the local "
        f"HTTP receiver, {len(sms_path.read_text().splitlines())} SMS written by the console "
        "backend)"
    )
    print(f"  delivered: {len(sent) / seconds:.0f} notices/s (first event to last delivery)")
    for channel in ("email", "sms", "webhook"):
        delays = sorted(
            (sent_at - created).total_seconds() * 1000
            for c, created, sent_at in sent
            if c == channel
        )
        print(
            f"  event → delivery, {channel}: p50 {percentile(delays, 0.5):.0f} ms, "
            f"p99 {percentile(delays, 0.99):.0f} ms ({len(delays)} notices)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
