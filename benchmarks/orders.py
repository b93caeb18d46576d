"""Benchmark: purchasing teams placing orders over HTTP, under gunicorn on PostgreSQL.

    make benchmark-orders               # uses DATABASE_URL / REDIS_URL like `make test`
    .venv/bin/python benchmarks/orders.py --clients 8,64 --stock 2000,400 --requests 1000

What it does, on a database of its own ("<name of DATABASE_URL's database>_bench_orders",
created if missing, so test and demo data are never touched):
1. migrates and seeds it (idempotent): cooperatives with a household and a manager each (the
   manager has a phone and an e-mail address, so an order tells them as it would in real
   life: inbox, SMS and e-mail), active listings (minimum order 5 kg, increments of 5, three
   price tiers), buyer organisations with a store and a purchaser each (with an e-mail
   address), and a fresh bearer token per purchaser;
2. before each run, gives every listing a known stock: earlier runs' orders and idempotency
   keys are deleted, and one lot of --stock kg is received per listing through the stock
   service;
3. counts SQL queries of POST /api/v1/orders/ in-process (django.test.Client) for orders of
   1, 2, 3 and 10 lines, and of an Idempotency-Key replay; then of each fulfilment transition
   (confirm, pack, ship, deliver) of parts of 1, 3 and 6 lines, through the service and the
   API (--queries-only stops here);
4. starts gunicorn (sync workers) on a free loopback port; for each --clients level, that many
   concurrent clients place orders of 1-3 random lines of 5-20 kg, each with a fresh
   Idempotency-Key (every --replay-every-th request resends the previous placed order with its
   key: it must answer the same order and reserve nothing more), bounded by --requests and
   --max-seconds; then prints orders/s, p50/p99 latency and 201/409/other counts;
5. after each run, checks the database: for every listing, stock reserved must equal the sum of
   its lines in live orders, and those lines must not exceed stock on hand. The oversold units
   must be 0; the script exits with status 1 if they are not.

Not a test: the figures depend on the machine. Only 127.0.0.1 is ever contacted; gunicorn is
stopped at the end, also on Ctrl-C.
"""

import argparse
import http.client
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

from common import (
    ROOT,
    percentile,
    request,
    run_clients,
    setup_django,
    start_gunicorn,
    stop_gunicorn,
    wait_healthy,
)
from listings import PRODUCT_NAMES
from ratio import ensure_wrk, print_comparison, record, side_by_side, start_baseline

ORDERS_PATH = "/api/v1/orders/"
QUANTITIES = (5, 10, 15, 20)  # kg: minimum 5, increments of 5
PURCHASER_PHONE = "+86137{:08d}"
MANAGER_PHONE = "+86136{:08d}"


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from exc
    if not values:
        raise argparse.ArgumentTypeError("give at least one number")
    return values


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clients",
        type=int_list,
        default=[64],
        help="concurrent client threads of each stock-checking run, comma-separated (64)",
    )
    parser.add_argument(
        "--stock",
        type=int_list,
        default=[400],
        help="kg on hand per listing at the start of each run (400): scarce, so that many "
        "orders are refused with 409 and overselling would show",
    )
    parser.add_argument("--requests", type=int, default=1000, help="order requests per run (1000)")
    parser.add_argument(
        "--max-seconds", type=float, default=90, help="stop a run after this long (90)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * len(os.sched_getaffinity(0)) + 1,
        help="gunicorn sync workers, for the project and the baseline alike (default: 2 x "
        "cores + 1, as docker/gunicorn.conf.py deploys: a placement waits on about ten round "
        "trips to PostgreSQL and Redis, and a sync worker waiting leaves its core idle)",
    )
    parser.add_argument("--listings", type=int, default=20, help="active listings (20)")
    parser.add_argument("--cooperatives", type=int, default=3, help="cooperatives (3)")
    parser.add_argument(
        "--organisations", type=int, default=16, help="buyer organisations, one purchaser each (16)"
    )
    parser.add_argument(
        "--replay-every",
        type=int,
        default=10,
        help="every n-th request of a client resends its last placed order with the same "
        "Idempotency-Key (10; 0: never)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    parser.add_argument(
        "--seconds", type=int, default=5, help="seconds of each wrk round per server (5)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating wrk rounds (2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument(
        "--show-sql", action="store_true", help="print the SQL of one 2-line placement"
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="print the in-process query counts and stop (no gunicorn, no wrk)",
    )
    args = parser.parse_args()
    if len(args.stock) == 1:
        args.stock = args.stock * len(args.clients)
    if len(args.stock) != len(args.clients):
        parser.error("--stock needs one value, or one per --clients value")
    if not all(1 <= c <= 256 for c in args.clients):
        parser.error("--clients must be 1..256")
    if not all(20 <= s <= 1_000_000 for s in args.stock):
        parser.error("--stock must be 20..1000000 kg")
    if not (1 <= args.requests <= 100_000 and 1 <= args.workers <= 64):
        parser.error("--requests must be 1..100000 and --workers 1..64")
    if not (3 <= args.listings <= len(PRODUCT_NAMES) and 1 <= args.cooperatives <= 10):
        parser.error(f"--listings must be 3..{len(PRODUCT_NAMES)}, --cooperatives 1..10")
    if not 1 <= args.organisations <= 500:
        parser.error("--organisations must be 1..500")
    return args


# --- seed ----------------------------------------------------------------------------------------


def seed(*, cooperatives: int, listings: int, organisations: int) -> dict:
    """Cooperatives (a household and a manager each), listings spread over them round-robin,
    organisations with a store and a purchaser, and a fresh token per purchaser. Running
    again reuses the rows. Returns ids and tokens."""
    from django.db import transaction
    from knox.models import AuthToken

    from accounts.models import User
    from backend.pinyin import pinyin_for_search
    from backend.validators import credit_code_check_character
    from buyers.models import BuyerOrganisation, Membership, Store
    from products.models import Category, Grade, Listing, PriceTier, Product, Unit
    from suppliers.models import Cooperative, Household

    def code(prefix: str, n: int) -> str:
        first17 = f"{prefix}{n:07d}"
        return first17 + credit_code_check_character(first17)

    with transaction.atomic():
        category, _ = Category.objects.get_or_create(
            slug="bench-orders", defaults={"name_zh": "山货", "name_en": "Mountain produce"}
        )
        coops, households = [], {}
        for i in range(cooperatives):
            coop, _ = Cooperative.objects.get_or_create(
                credit_code=code("93522326MC", i),
                defaults={
                    "name_zh": f"石屯镇订单基准合作社{i + 1}",
                    "name_en": f"Shitun Orders Benchmark Cooperative {i + 1}",
                    "village": "石屯村",
                    "contact_phone": f"+86139{71_000_000 + i:08d}",
                    "payout_reference": "bank:bench-****0002",
                },
            )
            coops.append(coop)
            households[coop.pk], _ = Household.objects.get_or_create(
                cooperative=coop, name=f"基准农户{i + 1}", defaults={"village": "石屯村"}
            )
            manager, _ = User.objects.update_or_create(
                phone=MANAGER_PHONE.format(i),
                defaults={
                    "name": f"基准社长{i + 1}",
                    "role": User.Role.COOPERATIVE_MANAGER,
                    "email": f"manager{i + 1}@bench.example.cn",
                },
            )
            coop.managers.add(manager)

        listing_ids = []
        for i in range(listings):
            zh, en = PRODUCT_NAMES[i]
            product, _ = Product.objects.get_or_create(
                name_zh=zh,
                defaults={
                    "category": category,
                    "name_en": en,
                    "unit": Unit.KG,
                    "pinyin": pinyin_for_search(zh),
                },
            )
            listing, created = Listing.objects.get_or_create(
                cooperative=coops[i % len(coops)],
                product=product,
                grade=Grade.FIRST,
                defaults={
                    "unit": Unit.KG,
                    "packaging": "25 kg sack",
                    "description": "Seeded by benchmarks/orders.py.",
                    "min_order_quantity": Decimal("5"),
                    "order_increment": Decimal("5"),
                    "lead_time_days": 0,
                    "status": Listing.Status.ACTIVE,
                },
            )
            if created:
                price = Decimal(40 + 3 * i)
                PriceTier.objects.bulk_create(
                    PriceTier(
                        listing=listing,
                        min_quantity=Decimal(quantity),
                        unit_price=(price * Decimal(factor)).quantize(Decimal("0.01")),
                    )
                    for quantity, factor in (("5", "1"), ("50", "0.95"), ("200", "0.9"))
                )
            listing_ids.append(listing.pk)

        buyers = []
        for i in range(organisations):
            organisation, _ = BuyerOrganisation.objects.get_or_create(
                credit_code=code("91520102MC", i),
                defaults={
                    "name_zh": f"南明区订单基准买家{i + 1}",
                    "kind": BuyerOrganisation.Kind.SUPERMARKET_CHAIN,
                    "contact_phone": f"+86139{72_000_000 + i:08d}",
                    "approval_threshold": None,  # orders go straight to the cooperatives
                },
            )
            store, _ = Store.objects.get_or_create(
                organisation=organisation,
                name="新华路店",
                defaults={"address": f"贵阳市南明区新华路 {i + 1} 号"},
            )
            user, _ = User.objects.update_or_create(
                phone=PURCHASER_PHONE.format(i),
                defaults={
                    "name": f"基准采购员{i + 1}",
                    "role": User.Role.BUYER,
                    "email": f"buyer{i + 1}@bench.example.cn",
                },
            )
            Membership.objects.update_or_create(
                user=user,
                defaults={"organisation": organisation, "role": Membership.Role.PURCHASER},
            )
            AuthToken.objects.filter(user=user).delete()
            _token, plain = AuthToken.objects.create(user)
            buyers.append({"organisation": organisation.pk, "store": store.pk, "token": plain})
    return {
        "listings": listing_ids,
        "households": {coop.pk: households[coop.pk] for coop in coops},
        "buyers": buyers,
    }


def reset(seeded: dict, *, stock: int, run: str) -> None:
    """Start a run from a known state: no orders, no idempotency keys, and every listing with
    exactly ``stock`` kg on hand from one lot received through the stock service."""
    from django.db import transaction
    from django.utils import timezone

    from backend.models import IdempotencyKey
    from buyers.models import Membership
    from orders.models import Order
    from products.models import Listing, Lot
    from products.services import lot_receive

    organisations = [buyer["organisation"] for buyer in seeded["buyers"]]
    with transaction.atomic():
        Order.objects.filter(organisation_id__in=organisations).delete()
        members = Membership.objects.filter(organisation_id__in=organisations)
        IdempotencyKey.objects.filter(user_id__in=members.values("user_id")).delete()
        Lot.objects.filter(listing_id__in=seeded["listings"]).delete()
        Listing.objects.filter(pk__in=seeded["listings"]).update(
            stock_on_hand=0, stock_reserved=0, status=Listing.Status.ACTIVE
        )
    today = timezone.localdate()
    quantity = Decimal(stock)
    for listing in Listing.objects.filter(pk__in=seeded["listings"]).order_by("pk"):
        lot_receive(
            listing=listing,
            code=f"BENCH-{run}-{listing.pk}",
            harvest_date=today,
            quantity=quantity,
            contributions=[
                {"household": seeded["households"][listing.cooperative_id], "quantity": quantity}
            ],
        )


# --- queries per placement ----------------------------------------------------------------------


def count_queries(seeded: dict) -> tuple[list[tuple], list[str]]:
    """(what, SQL queries, milliseconds, (notices written, broker messages)) of in-process
    placements, and the SQL of the 2-line one."""
    from celery.signals import before_task_publish
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from notices.models import Notice

    published = []
    before_task_publish.connect(lambda sender=None, **kwargs: published.append(sender), weak=False)

    buyer = seeded["buyers"][0]
    client = Client(headers={"authorization": f"Bearer {buyer['token']}"})
    client.get(f"{ORDERS_PATH}?page_size=1")  # warm up: connection, content types
    listing_ids = seeded["listings"]  # round-robin over cooperatives: n lines, n cooperatives
    rows, sql_of_two = [], []

    def post(body: dict, key: str):
        notices_before = Notice.objects.count()
        published.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.post(
                ORDERS_PATH, body, content_type="application/json", headers={"idempotency-key": key}
            )
            milliseconds = (time.perf_counter() - start) * 1000
        if response.status_code != 201:
            sys.exit(f"POST {ORDERS_PATH} answered {response.status_code}: {response.content!r}")
        notices = Notice.objects.count() - notices_before
        return response, captured, milliseconds, (notices, len(published))

    warm = {"store": buyer["store"], "lines": [{"listing": listing_ids[-1], "quantity": "5"}]}
    post(warm, uuid.uuid4().hex)  # first-call costs (imports, caches) are not the figure
    for n in (1, 2, 3, 10):
        body = {
            "store": buyer["store"],
            "lines": [{"listing": i, "quantity": "10"} for i in listing_ids[:n]],
        }
        key = uuid.uuid4().hex
        response, captured, ms, notices = post(body, key)
        fulfilments = len(response.json()["fulfilments"])
        rows.append((f"{n} line(s), {fulfilments} cooperative(s)", len(captured), ms, notices))
        if n == 2:
            sql_of_two = [item["sql"] for item in captured.captured_queries]
    replay, captured, ms, notices = post(body, key)
    if replay.headers.get("Idempotent-Replayed") != "true":
        sys.exit("the same Idempotency-Key and body did not replay the first answer")
    rows.append(("replay of the 10-line order (same key)", len(captured), ms, notices))
    return rows, sql_of_two


# --- queries per fulfilment transition ----------------------------------------------------------

TRANSITIONS = ("confirm", "pack", "ship", "deliver")


def count_transition_queries(seeded: dict, *, cooperatives: int) -> list[tuple[str, int, list]]:
    """(transition, lines, [service queries, HTTP queries]) for one cooperative's part of 1, 3
    and 6 lines, moved placed → confirmed → packed → shipped → delivered: through the service
    (orders/services/transitions.py) and through the API (with the answer's pick list)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    from accounts.models import User
    from buyers.models import Store
    from orders.models import Fulfilment
    from orders.services import placement, transitions
    from suppliers.access import managed_cooperative_ids

    buyer = seeded["buyers"][0]
    manager = User.objects.get(phone=MANAGER_PHONE.format(0))  # the first cooperative's (seed)
    AuthToken.objects.filter(user=manager).delete()
    _token, manager_token = AuthToken.objects.create(manager)
    clients = {
        "manager": Client(headers={"authorization": f"Bearer {manager_token}"}),
        "buyer": Client(headers={"authorization": f"Bearer {buyer['token']}"}),
    }
    store = Store.objects.select_related("organisation").get(pk=buyer["store"])
    purchaser = User.objects.get(buyer_membership__organisation_id=buyer["organisation"])
    same_cooperative = seeded["listings"][0::cooperatives]  # round-robin: one cooperative's
    # Which cooperatives the manager runs is read once per request (over HTTP, with the
    # credential, and remembered with the token): here once before the first count, and each
    # client's first request (its token read and remembered) is not the figure either.
    managed_cooperative_ids(user=manager)
    for client in clients.values():
        client.get("/api/v1/auth/me/")

    def place(n: int) -> int:
        lines = [placement.LineRequest(i, Decimal("10")) for i in same_cooperative[:n]]
        order = placement.order_place(user=purchaser, store=store, lines=lines).order
        return order.fulfilments.get().pk

    services = {
        "confirm": lambda f: transitions.fulfilment_confirm(fulfilment=f, user=manager),
        "pack": lambda f: transitions.fulfilment_pack(fulfilment=f, user=manager),
        "ship": lambda f: transitions.fulfilment_ship(fulfilment=f, user=manager),
        "deliver": lambda f: transitions.fulfilment_deliver(fulfilment=f, user=purchaser),
    }
    rows = []
    for n in (1, 3, 6):
        by_service, by_api = place(n), place(n)
        for step in TRANSITIONS:
            fulfilment = Fulfilment.objects.get(pk=by_service)
            with CaptureQueriesContext(connection) as service:
                services[step](fulfilment)
            client = clients["buyer" if step == "deliver" else "manager"]
            with CaptureQueriesContext(connection) as api:
                response = client.post(
                    f"/api/v1/fulfilments/{by_api}/{step}/", {}, content_type="application/json"
                )
            if response.status_code != 200:
                sys.exit(f"{step} answered {response.status_code}: {response.content!r}")
            rows.append((step, n, [len(service), len(api)]))
    return rows


# --- the ratio of bare Django, with wrk ------------------------------------------------------

# Placement before issue 8's work reached this share of the bare-Django baseline at 8 wrk
# connections and 2 sync workers, one per core (2026-11-29: 74 orders/s against 4,445/s);
# issue 8 asks for four times as many.
RATIO_BEFORE = 0.017
RATIO_TARGET = 4 * RATIO_BEFORE
WRK_SCRIPT = ROOT / "benchmarks" / "place_orders.lua"


def wrk_env(seeded: dict) -> dict:
    """What place_orders.lua reads: each purchaser's token and store, and the listings."""
    return {
        "BENCH_BUYERS": " ".join(f"{b['token']}:{b['store']}" for b in seeded["buyers"]),
        "BENCH_LISTINGS": " ".join(str(pk) for pk in seeded["listings"]),
    }


def measure_ratio(port: int, seeded: dict, args) -> bool:
    """Orders/s at 8 wrk connections against a bare Django view answering the same 201 bytes,
    in alternating rounds; stock is ample, so every placement succeeds."""
    buyer = seeded["buyers"][0]
    headers = {
        "Authorization": f"Bearer {buyer['token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = json.dumps(
        {"store": buyer["store"], "lines": [{"listing": seeded["listings"][0], "quantity": "10"}]}
    ).encode()
    answers = record(port, [ORDERS_PATH], headers, method="POST", body=body)
    baseline, baseline_port, answers_file = start_baseline(answers, workers=args.workers)
    os.environ.update(wrk_env(seeded))  # wrk inherits them
    try:
        for _ in range(100):
            try:
                request(baseline_port, "POST", ORDERS_PATH, {}, b"{}", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        print(
            f"\nLoad: wrk, {args.connections} connections, {args.rounds} alternating rounds of "
            f"{args.seconds} s per server, POST {ORDERS_PATH} of 1-3 lines with a fresh "
            f"Idempotency-Key each; baseline: a bare Django view answering a placed order's "
            f"bytes from memory; gunicorn {args.workers} sync workers each"
        )
        mine, bare = side_by_side(
            port,
            baseline_port,
            ORDERS_PATH,
            {},
            seconds=args.seconds,
            rounds=args.rounds,
            connections=args.connections,
            script=str(WRK_SCRIPT),
        )
        return print_comparison("orders placed", mine, bare, RATIO_TARGET)
    finally:
        stop_gunicorn(baseline)
        os.unlink(answers_file)


# --- load ---------------------------------------------------------------------------------------


def warm_up(port: int, seeded: dict, workers: int) -> None:
    """Every worker opens its database connection before the clock starts."""
    headers = {"Authorization": f"Bearer {seeded['buyers'][0]['token']}"}
    threads = [
        threading.Thread(
            target=lambda: request(port, "GET", f"{ORDERS_PATH}?page_size=1", headers),
            daemon=True,
        )
        for _ in range(workers * 4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def run_load(*, port, seeded, clients, requests, max_seconds, replay_every, seed) -> dict:
    lock = threading.Lock()
    stop = threading.Event()
    sent = 0
    placed: list[float] = []
    latencies: list[float] = []
    outcomes: Counter = Counter()
    order_ids: set[int] = set()
    replay_mismatches = 0
    deadline = time.monotonic() + max_seconds
    listing_ids = seeded["listings"]

    def client(number: int) -> None:
        nonlocal sent, replay_mismatches
        rng = random.Random(seed * 1000 + number)
        buyer = seeded["buyers"][number % len(seeded["buyers"])]
        headers = {
            "Authorization": f"Bearer {buyer['token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        mine_placed, mine_all, mine_ids = [], [], set()
        mine: Counter = Counter()
        mismatches = 0
        last = None  # (body, key, order id) of the last placed order
        count = 0
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:
                if sent >= requests:
                    break
                sent += 1
            count += 1
            replaying = last is not None and replay_every and count % replay_every == 0
            if replaying:
                body, key, expected_id = last
            else:
                lines = [
                    {"listing": listing_id, "quantity": str(rng.choice(QUANTITIES))}
                    for listing_id in rng.sample(listing_ids, rng.randint(1, 3))
                ]
                body = json.dumps({"store": buyer["store"], "lines": lines}).encode()
                key = uuid.uuid4().hex
            start = time.perf_counter()
            try:
                status, answer_headers, answer = request(
                    port, "POST", ORDERS_PATH, {**headers, "Idempotency-Key": key}, body
                )
            except (OSError, http.client.HTTPException) as exc:
                mine[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - start
            mine_all.append(elapsed)
            if status == 201 and answer_headers.get("idempotent-replayed") == "true":
                mine["201 replayed"] += 1
                if json.loads(answer)["id"] != expected_id:
                    mismatches += 1
            elif status == 201:
                mine["201 placed"] += 1
                mine_placed.append(elapsed)
                order_id = json.loads(answer)["id"]
                mine_ids.add(order_id)
                last = (body, key, order_id)
            elif status == 409:
                mine[f"409 {json.loads(answer)['error']['code']}"] += 1
            else:
                mine[f"HTTP {status}"] += 1
        with lock:
            placed.extend(mine_placed)
            latencies.extend(mine_all)
            outcomes.update(mine)
            order_ids.update(mine_ids)
            replay_mismatches += mismatches

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    elapsed = run_clients(threads, stop)
    placed.sort()
    latencies.sort()
    return {
        "elapsed": elapsed,
        "sent": sent,
        "placed": placed,
        "latencies": latencies,
        "outcomes": outcomes,
        "order_ids": order_ids,
        "replay_mismatches": replay_mismatches,
    }


# --- the books after a run ----------------------------------------------------------------------


def audit(seeded: dict, *, stock: int) -> dict:
    """Stock against orders, from the database. Per listing: promised = the quantities of its
    lines in parts that still hold a reservation; reserved must equal promised, and promised
    must not exceed on hand (oversold = what exceeds it)."""
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    from orders.lifecycle import HOLDS_RESERVATION
    from orders.models import Order, OrderLine
    from products.models import Listing

    promised = dict(
        OrderLine.objects.filter(
            listing_id__in=seeded["listings"], fulfilment__status__in=HOLDS_RESERVATION
        )
        .values("listing_id")
        .annotate(total=Sum(Coalesce("confirmed_quantity", "quantity")))
        .values_list("listing_id", "total")
    )
    oversold = mismatch = on_hand_drift = Decimal(0)
    sold_out = 0
    for listing in Listing.objects.filter(pk__in=seeded["listings"]):
        lines = promised.get(listing.pk, Decimal(0))
        oversold += max(Decimal(0), lines - listing.stock_on_hand)
        mismatch += abs(listing.stock_reserved - lines)
        on_hand_drift += abs(listing.stock_on_hand - stock)
        sold_out += listing.status == Listing.Status.SOLD_OUT
    organisations = [buyer["organisation"] for buyer in seeded["buyers"]]
    return {
        "oversold": oversold,
        "mismatch": mismatch,
        "on_hand_drift": on_hand_drift,
        "reserved": sum(promised.values(), Decimal(0)),
        "sold_out": sold_out,
        "orders": Order.objects.filter(organisation_id__in=organisations).count(),
    }


def kg(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def report(result: dict, books: dict, *, stock: int, listings: int) -> bool:
    """Print one run's figures; False if the books do not balance."""
    outcomes = result["outcomes"]
    done = sum(outcomes.values())
    elapsed = result["elapsed"]
    placed_count = outcomes["201 placed"]
    refused = sum(n for name, n in outcomes.items() if name.startswith("409"))
    other = done - placed_count - outcomes["201 replayed"] - refused
    print(f"  requests       {done} in {elapsed:.1f} s ({done / elapsed:.1f} requests/s)")
    print(f"  orders/s       {placed_count / elapsed:.1f}")
    print(
        f"  latency 201    p50 {percentile(result['placed'], 0.50) * 1000:.0f} ms, "
        f"p99 {percentile(result['placed'], 0.99) * 1000:.0f} ms"
    )
    print(
        f"  latency all    p50 {percentile(result['latencies'], 0.50) * 1000:.0f} ms, "
        f"p99 {percentile(result['latencies'], 0.99) * 1000:.0f} ms"
    )
    print(
        f"  201 placed     {placed_count}   201 replayed {outcomes['201 replayed']} "
        f"(answering another order: {result['replay_mismatches']})"
    )
    details = {k: v for k, v in outcomes.items() if not k.startswith("201")}
    print(f"  409            {refused}   other {other}   {json.dumps(details) if details else ''}")
    total = stock * listings
    print(
        f"  stock          {kg(books['reserved'])} of {total} kg reserved, "
        f"{books['sold_out']} of {listings} listings sold out"
    )
    print(f"  orders in db   {books['orders']} (distinct 201 answers: {len(result['order_ids'])})")
    print(
        f"  oversold       {kg(books['oversold'])} kg   (reserved ≠ live lines: "
        f"{kg(books['mismatch'])} kg; on hand changed: {kg(books['on_hand_drift'])} kg)"
    )
    return (
        books["oversold"] == 0
        and books["mismatch"] == 0
        and books["on_hand_drift"] == 0
        and books["orders"] == len(result["order_ids"])
        and result["replay_mismatches"] == 0
    )


def show_server_log(log, limit: int = 30) -> None:
    """gunicorn's log without the expected "Conflict: /api/v1/orders/" warnings."""
    log.seek(0)
    lines = log.read().splitlines()
    log.close()
    unexpected = [line for line in lines if line.strip() != f"Conflict: {ORDERS_PATH}"]
    if unexpected:
        print(f"\nserver log ({len(unexpected)} lines besides the 409 warnings):")
        for line in unexpected[:limit]:
            print(f"  {line}")


# --- main -----------------------------------------------------------------------------------


def purge_notice_messages() -> None:
    """Every placement handed its notices to the broker and no worker ran: leave no message
    for the next benchmark's or test run's workers."""
    from backend.celery import app

    print(f"\n{app.control.purge()} notice messages purged from the broker")


def main() -> None:
    args = parse_args()
    ensure_wrk()
    bench_url, bench_name = setup_django(suffix="_bench_orders", cache_prefix="bench-orders")
    from django.conf import settings
    from django.db import connections

    seeded = seed(
        cooperatives=args.cooperatives,
        listings=args.listings,
        organisations=args.organisations,
    )
    redis = settings.REDIS_URL or "not configured"
    print(
        f"database {bench_name}, redis {redis}: {args.listings} listings over "
        f"{args.cooperatives} cooperatives (minimum 5 kg, steps of 5), "
        f"{args.organisations} buyer organisations"
    )

    reset(seeded, stock=args.stock[0], run="sql")
    print(
        "\nSQL queries per placed order (in-process, django.test.Client, bearer token), the "
        "notices it writes and the messages it sends to the broker:"
    )
    rows, sql_of_two = count_queries(seeded)
    for what, queries, ms, (notices, messages) in rows:
        print(
            f"  POST {ORDERS_PATH} {what:<40} 201 {queries:>4} queries {ms:>6.1f} ms "
            f"{notices:>3} notices {messages:>2} message(s)"
        )
    if args.show_sql:
        print("\n  SQL of the 2-line placement:")
        for statement in sql_of_two:
            print(f"    {statement}")
    reset(seeded, stock=args.stock[0], run="transitions")
    print("\nSQL queries per fulfilment transition (in-process; one cooperative's part):")
    print(f"  {'':<10}{'lines':>6}{'service':>9}{'API':>6}")
    for step, lines, (service, api) in count_transition_queries(
        seeded, cooperatives=args.cooperatives
    ):
        print(f"  {step:<10}{lines:>6}{service:>9}{api:>6}")
    connections.close_all()
    if args.queries_only:
        purge_notice_messages()
        return

    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "false"}
    balanced = True
    # SIGTERM ends the script like Ctrl-C does, through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Django logs a warning per 409, and 409s are expected here: the server log goes to a
    # file, and only what is not one of those is shown at the end.
    server_log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    process, port = start_gunicorn(workers=args.workers, env=env, stderr=server_log)
    try:
        wait_healthy(process, port)
        warm_up(port, seeded, args.workers)
        # Ample stock: the ratio measures placements, not refusals.
        reset(seeded, stock=1_000_000, run=f"wrk-{uuid.uuid4().hex[:8]}")
        connections.close_all()
        met = measure_ratio(port, seeded, args)
        books = audit(seeded, stock=1_000_000)
        connections.close_all()
        balanced &= books["oversold"] == 0 and books["mismatch"] == 0
        for run, (clients, stock) in enumerate(zip(args.clients, args.stock, strict=True)):
            reset(seeded, stock=stock, run=f"{run}-{uuid.uuid4().hex[:8]}")
            connections.close_all()
            print(
                f"\nLoad: POST {ORDERS_PATH} x {args.requests}, {clients} concurrent clients, "
                f"{stock} kg per listing, gunicorn {args.workers} sync workers on "
                f"127.0.0.1:{port}"
            )
            result = run_load(
                port=port,
                seeded=seeded,
                clients=clients,
                requests=args.requests,
                max_seconds=args.max_seconds,
                replay_every=args.replay_every,
                seed=args.seed + run,
            )
            books = audit(seeded, stock=stock)
            connections.close_all()
            balanced &= report(result, books, stock=stock, listings=args.listings)
            if result["sent"] < args.requests:
                print(
                    f"  stopped after --max-seconds {args.max_seconds:.0f}: "
                    f"{result['sent']} of {args.requests}"
                )
    finally:
        stop_gunicorn(process)
        show_server_log(server_log)
        purge_notice_messages()
    if not met:
        print("\nthe ratio of bare Django is below its target")
    if not balanced:
        print("\nTHE BOOKS DO NOT BALANCE: stock was oversold or lost track of.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted (gunicorn stopped)", file=sys.stderr)
        sys.exit(130)
