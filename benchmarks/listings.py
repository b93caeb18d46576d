"""Benchmark: a buyer listing 50 listings, under gunicorn on PostgreSQL, against bare Django.

    make benchmark                      # uses DATABASE_URL / REDIS_URL like `make test`
    .venv/bin/python benchmarks/listings.py --seconds 10 --rounds 3

What it does, on a database of its own ("<name of DATABASE_URL's database>_bench", created if
missing, so test and demo data are never touched):
1. migrates and seeds it (idempotent): cooperatives, products, live listings with three price
   tiers and one or two certifications each, and a buyer with a bearer token;
2. counts SQL queries per request in-process (django.test.Client) for page sizes 10, 50 and
   100, with and without ?fields=: the count must not grow with the page size;
3. starts gunicorn (sync workers) on a free loopback port, records its answers to the plain
   list of 50 and to the list narrowed by ?search=, ?category= and ?fields=, and starts a
   second gunicorn (same workers) with a bare Django view that answers those same bytes from
   memory (benchmarks/baseline_app.py);
4. loads both with wrk, in alternating rounds, and prints requests/s, p50/p99 latency and the
   ratio project/baseline for each case, against the issue's targets (0.30 for the plain list,
   0.15 narrowed). Both servers are stopped at the end, also on Ctrl-C.

Not a test: the figures depend on the machine; the ratio much less so. Only 127.0.0.1 is ever
contacted.
"""

import argparse
import os
import signal
import sys
import time
from decimal import Decimal

from common import request, setup_django, start_gunicorn, stop_gunicorn, wait_healthy
from ratio import ensure_wrk, print_comparison, record, side_by_side, start_baseline, wrk

LISTINGS_PATH = "/api/v1/listings/"
# The share of the bare-Django baseline's requests/s each list must reach (issue 8).
PLAIN_TARGET = 0.30
NARROWED_TARGET = 0.15
PRODUCT_NAMES = [
    ("蜂蜜", "honey"),
    ("通草", "tongcao"),
    ("天麻", "gastrodia tuber"),
    ("刺梨", "roxburgh rose"),
    ("茶叶", "tea"),
    ("辣椒", "chili pepper"),
    ("核桃", "walnut"),
    ("板栗", "chestnut"),
    ("薏仁米", "coix seed"),
    ("小黄姜", "yellow ginger"),
    ("魔芋", "konjac"),
    ("竹笋", "bamboo shoot"),
    ("香菇", "shiitake"),
    ("木耳", "wood ear"),
    ("金银花", "honeysuckle"),
    ("杜仲", "eucommia bark"),
    ("百香果", "passion fruit"),
    ("猕猴桃", "kiwifruit"),
    ("李子", "plum"),
    ("土鸡蛋", "free-range eggs"),
    ("腊肉", "cured pork"),
    ("糯米", "glutinous rice"),
    ("荞麦", "buckwheat"),
    ("花椒", "sichuan pepper"),
    ("生姜", "ginger"),
]
CERTIFICATIONS = [
    ("organic", "有机产品", "Organic"),
    ("geographical-indication", "地理标志产品", "Geographical indication"),
    ("green-food", "绿色食品", "Green food"),
]
BUYER_PHONE = "+8613800138000"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=int, default=5, help="seconds of each wrk round per server (5)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds per server and case (2)"
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="gunicorn sync workers (default: one per core; the clients and PostgreSQL share "
        "the machine, and more workers only queue for the same cores)",
    )
    parser.add_argument("--page-size", type=int, default=50, help="page_size of the load (50)")
    parser.add_argument("--cooperatives", type=int, default=3, help="seeded cooperatives (3)")
    parser.add_argument(
        "--products",
        type=int,
        default=25,
        help="seeded products (25); each cooperative lists each product in every grade",
    )
    parser.add_argument(
        "--no-gzip",
        action="store_true",
        help="do not send Accept-Encoding: gzip (phones do, so the default sends it)",
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the SQL of one page_size=50 request"
    )
    args = parser.parse_args()
    if not (1 <= args.seconds <= 600 and 1 <= args.rounds <= 20 and 1 <= args.connections <= 256):
        parser.error("--seconds must be 1..600, --rounds 1..20 and --connections 1..256")
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be 1..64")
    return args


# --- seed ----------------------------------------------------------------------------------------


def seed(*, cooperatives: int, products: int) -> tuple[int, str]:
    """Live listings (every cooperative x product x grade), each with three tiers and one or
    two certifications; a buyer with a fresh bearer token. Safe to run again: existing rows are
    reused and the listings rebuilt only when their count is off. Returns (listings, token)."""
    from django.db import transaction
    from knox.models import AuthToken

    from accounts.models import User
    from backend.pinyin import pinyin_for_search
    from backend.validators import credit_code_check_character
    from products.models import Category, Certification, Grade, Listing, PriceTier, Product, Unit
    from suppliers.models import Cooperative

    with transaction.atomic():
        category, _ = Category.objects.get_or_create(
            slug="bench-produce", defaults={"name_zh": "山货", "name_en": "Mountain produce"}
        )
        certifications = [
            Certification.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})[
                0
            ]
            for code, zh, en in CERTIFICATIONS
        ]
        coops = []
        for i in range(cooperatives):
            first17 = f"93522326MB{i:07d}"
            coop, _ = Cooperative.objects.get_or_create(
                credit_code=first17 + credit_code_check_character(first17),
                defaults={
                    "name_zh": f"石屯镇基准合作社{i + 1}",
                    "name_en": f"Shitun Benchmark Cooperative {i + 1}",
                    "village": "石屯村",
                    "contact_phone": f"+86139{70_000_000 + i:08d}",
                    "payout_reference": "bank:bench-****0001",
                },
            )
            coops.append(coop)
        items = []
        for i in range(products):
            zh, en = PRODUCT_NAMES[i % len(PRODUCT_NAMES)]
            round_ = i // len(PRODUCT_NAMES)
            name_zh = zh if round_ == 0 else f"{zh}{round_ + 1}号"
            product, _ = Product.objects.get_or_create(
                name_zh=name_zh,
                defaults={
                    "category": category,
                    "name_en": en,
                    "unit": Unit.KG,
                    "pinyin": pinyin_for_search(name_zh),
                },
            )
            items.append(product)

        grades = list(Grade.values)
        expected = len(coops) * len(items) * len(grades)
        live = Listing.objects.filter(
            cooperative__in=coops, product__in=items, status=Listing.Status.ACTIVE
        )
        if live.count() != expected or Listing.objects.filter(cooperative__in=coops).count() != (
            expected
        ):
            Listing.objects.filter(cooperative__in=coops).delete()
            listings = Listing.objects.bulk_create(
                Listing(
                    cooperative=coop,
                    product=product,
                    grade=grade,
                    unit=Unit.KG,
                    packaging="24 × 500 g jars per case",
                    description="Seeded by benchmarks/listings.py.",
                    min_order_quantity=Decimal("10"),
                    order_increment=Decimal("5"),
                    stock_on_hand=Decimal("1000"),
                    lead_time_days=3,
                    status=Listing.Status.ACTIVE,
                )
                for coop in coops
                for product in items
                for grade in grades
            )
            tiers = []
            through = []
            for n, listing in enumerate(listings):
                price = Decimal(40 + n % 60)
                for quantity, factor in (("10", "1"), ("100", "0.92"), ("500", "0.85")):
                    unit_price = (price * Decimal(factor)).quantize(Decimal("0.01"))
                    tiers.append(
                        PriceTier(
                            listing=listing, min_quantity=Decimal(quantity), unit_price=unit_price
                        )
                    )
                for cert in certifications[n % 3 : n % 3 + 1 + n % 2]:
                    through.append(
                        Listing.certifications.through(listing=listing, certification=cert)
                    )
            PriceTier.objects.bulk_create(tiers)
            Listing.certifications.through.objects.bulk_create(through)
            print(f"seeded {len(listings)} listings, {len(tiers)} tiers, {len(through)} certs")

        buyer, _ = User.objects.get_or_create(
            phone=BUYER_PHONE, defaults={"name": "南明基准买家", "role": User.Role.BUYER}
        )
        AuthToken.objects.filter(user=buyer).delete()
        _token, plain = AuthToken.objects.create(buyer)
    return expected, plain


# --- queries per request ------------------------------------------------------------------------


def count_queries(token: str) -> tuple[list[tuple[str, int, int, int]], list[str]]:
    """(query string, results, SQL queries of a page built, of a page answered from the page
    cache) per request, and the SQL of page_size=50 built."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(headers={"authorization": f"Bearer {token}"})
    client.get(f"{LISTINGS_PATH}?page_size=10")  # warm up: connection, content types
    rows, sql_of_50 = [], []
    for page_size in (10, 50, 100):
        for fields in ("", "&fields=id,base_price"):
            query = f"?page_size={page_size}{fields}"
            counts = []
            for page_cache_seconds in (0, 60):  # built (cache off), then cached
                with override_settings(CATALOG_PAGE_CACHE_SECONDS=page_cache_seconds):
                    client.get(LISTINGS_PATH + query)  # the token remembered, the page stored
                    with CaptureQueriesContext(connection) as captured:
                        response = client.get(LISTINGS_PATH + query)
                if response.status_code != 200:
                    sys.exit(
                        f"GET {query} answered {response.status_code}: {response.content[:300]}"
                    )
                counts.append(len(captured.captured_queries))
                if page_size == 50 and not fields and not page_cache_seconds:
                    sql_of_50 = [item["sql"] for item in captured.captured_queries]
            rows.append((query, len(response.json()["results"]), *counts))
    return rows, sql_of_50


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    ensure_wrk()
    bench_url, bench_name = setup_django(suffix="_bench", cache_prefix="bench")
    from django.conf import settings
    from django.db import connections

    from products.models import Category

    listings, token = seed(cooperatives=args.cooperatives, products=args.products)
    category = Category.objects.get(slug="bench-produce").pk
    redis = settings.REDIS_URL or "not configured"
    print(f"database {bench_name}, redis {redis}, {listings} live listings")

    print("\nSQL queries per request (in-process, django.test.Client, bearer token):")
    rows, sql_of_50 = count_queries(token)
    print(f"  {'request':<60} {'results':>8} {'built':>8} {'cached':>8}")
    for query, results, built, cached in rows:
        print(f"  GET {LISTINGS_PATH + query:<56} {results:>8} {built:>8} {cached:>8}")
    if args.show_sql:
        print("\n  SQL of GET ?page_size=50:")
        for statement in sql_of_50:
            print(f"    {statement}")
    connections.close_all()

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if not args.no_gzip:
        headers["Accept-Encoding"] = "gzip"
    page = f"{LISTINGS_PATH}?page_size={args.page_size}"
    # (label, path, the ratio to reach): the plain list, and the list narrowed three ways.
    cases = [
        ("plain list", page, PLAIN_TARGET),
        ("?search=", f"{page}&search=fengmi", NARROWED_TARGET),
        ("?category=", f"{page}&category={category}", NARROWED_TARGET),
        ("?fields=", f"{page}&fields=id,base_price,status", NARROWED_TARGET),
    ]
    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "false"}

    # SIGTERM ends the script like Ctrl-C does, through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    project, port = start_gunicorn(workers=args.workers, env=env)
    baseline = answers_file = None
    try:
        wait_healthy(project, port)
        answers = record(port, [path for _label, path, _target in cases], headers)
        baseline, baseline_port, answers_file = start_baseline(answers, workers=args.workers)
        wait_healthy_path(baseline, baseline_port, page, headers)
        for _label, path, _target in cases:  # warm up: connections, caches, both servers
            wrk(port, path, headers, seconds=1, connections=args.connections)
        print(
            f"\nLoad: wrk, {args.connections} connections, {args.rounds} alternating rounds of "
            f"{args.seconds} s per server; gunicorn {args.workers} sync workers each; "
            f"gzip {'off' if args.no_gzip else 'on'}. Baseline: a bare Django view answering "
            f"the same bytes from memory."
        )
        met = True
        for label, path, target in cases:
            size = len(answers[path][2])
            mine, bare = side_by_side(
                port,
                baseline_port,
                path,
                headers,
                seconds=args.seconds,
                rounds=args.rounds,
                connections=args.connections,
            )
            met &= print_comparison(f"{label} ({size:,} bytes)", mine, bare, target)
    finally:
        stop_gunicorn(project)
        if baseline is not None:
            stop_gunicorn(baseline)
        if answers_file:
            os.unlink(answers_file)
    if not met:
        print("\nsome ratios are below their targets")


def wait_healthy_path(process, port: int, path: str, headers: dict, timeout: float = 30) -> None:
    """Wait for the baseline (it has no /healthz: it knows only the recorded paths)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the baseline exited with status {process.returncode}")
        try:
            request(port, "GET", path, headers, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the baseline did not answer")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted (gunicorn stopped)", file=sys.stderr)
        sys.exit(130)
