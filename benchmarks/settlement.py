"""Benchmark: settling completed fulfilments, and the bank batch file, on PostgreSQL.

    make benchmark                      # uses DATABASE_URL like `make test`
    .venv/bin/python benchmarks/settlement.py --fulfilments 10000 --cooperatives 30

What it does, on a database of its own ("<DATABASE_URL's database>_bench_settlement",
dropped and made again on every run: the ledger is append-only, so a run cannot be undone):
1. seeds, in bulk (not through the lifecycle services, which would take minutes): the
   cooperatives, five households each with one traced lot, a buyer organisation, and
   --warmup completed, paid fulfilments (one order, one line, one pick each);
2. settles them (payments.services.settlement.settlement_run) and counts its SQL queries;
3. seeds --fulfilments more and settles them, timed, counting queries again. It prints
   fulfilments settled per second and SQL queries per statement for both runs: the count must
   not grow with the number of fulfilments (the script exits 1 if it does);
4. makes the bank batch of every pending payout and times writing it as CSV and XLSX.

Not a test: the figures depend on the machine.
"""

import argparse
import datetime
import sys
import time
from decimal import Decimal

from common import drop_database, setup_django

SUFFIX = "_bench_settlement"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fulfilments", type=int, default=10_000)
    parser.add_argument("--cooperatives", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=1_000, help="fulfilments of the first run")
    return parser.parse_args()


def seed_world(cooperatives: int):
    from accounts.models import User
    from backend.validators import credit_code_check_character
    from buyers.models import BuyerOrganisation, Store
    from products.models import Category, Listing, Lot, LotContribution, PriceTier, Product
    from suppliers.models import Cooperative, Household

    def code(prefix: str, n: int) -> str:
        first17 = f"{prefix}MA{n:07d}"
        return first17 + credit_code_check_character(first17)

    user = User.objects.create(phone="+8613700000001", name="bench buyer", role="buyer")
    organisation = BuyerOrganisation.objects.create(
        name_zh="基准买家",
        kind="supermarket_chain",
        credit_code=code("91520102", 1),
        contact_phone="+8613700000002",
    )
    store = Store.objects.create(organisation=organisation, name="基准门店", address="南明区")
    category = Category.objects.create(slug="bench", name_zh="基准")
    product = Product.objects.create(category=category, name_zh="蜂蜜(基准)", unit="kg")
    lots = []
    for n in range(cooperatives):
        coop = Cooperative.objects.create(
            name_zh=f"基准合作社{n}",
            credit_code=code("93522326", 900_000 + n),
            contact_phone=f"+86139{90_000_000 + n:08d}",
            payout_reference=f"bank:BANK{n}-****{n:04d}",
        )
        households = Household.objects.bulk_create(
            Household(
                cooperative=coop,
                name=f"农户{n}-{h}",
                village="石屯村",
                on_poverty_list=h == 0,
                poverty_registration_no=f"B{n}-{h}" if h == 0 else "",
            )
            for h in range(5)
        )
        listing = Listing.objects.create(
            cooperative=coop,
            product=product,
            grade="first",
            unit="kg",
            min_order_quantity=Decimal(1),
            order_increment=Decimal(1),
            status="active",
        )
        PriceTier.objects.create(listing=listing, min_quantity=Decimal(1), unit_price=Decimal("50"))
        lot = Lot.objects.create(
            listing=listing,
            code=f"B-{n}",
            harvest_date=datetime.date(2026, 9, 1),
            quantity=Decimal("500000"),
            quantity_picked=Decimal("0"),
        )
        LotContribution.objects.bulk_create(
            LotContribution(lot=lot, household=h, quantity=Decimal(100000)) for h in households
        )
        lots.append((coop, listing, lot))
    return user, organisation, store, lots


def seed_fulfilments(count: int, world, offset: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Fulfilment, Order, OrderLine, PickAllocation
    from payments.models import Payment

    user, organisation, store, lots = world
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            Order(
                organisation=organisation,
                store=store,
                placed_by=user,
                status="completed",
                total=Decimal("500.00"),
                reservation_expires_at=now,
            )
            for _ in range(count)
        )
        fulfilments = Fulfilment.objects.bulk_create(
            Fulfilment(
                order=order,
                cooperative=lots[(offset + i) % len(lots)][0],
                status="completed",
                subtotal=Decimal("500.00"),
                released_at=now,
            )
            for i, order in enumerate(orders)
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                order_id=f.order_id,
                fulfilment=f,
                listing=lots[(offset + i) % len(lots)][1],
                quantity=Decimal(10),
                unit_price=Decimal(50),
                price_source="public",
                confirmed_quantity=Decimal(10),
                accepted_quantity=Decimal(10),
                line_total=Decimal("500.00"),
            )
            for i, f in enumerate(fulfilments)
        )
        PickAllocation.objects.bulk_create(
            PickAllocation(line=line, lot=lots[(offset + i) % len(lots)][2], quantity=Decimal(10))
            for i, line in enumerate(lines)
        )
        Payment.objects.bulk_create(
            Payment(
                order=order,
                rail="bank_transfer",
                status="collected",
                amount=Decimal("500.00"),
                amount_collected=Decimal("500.00"),
            )
            for order in orders
        )


def settle():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.services.settlement import settlement_run

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = settlement_run(period_end=datetime.date.today() + datetime.timedelta(days=1))
        seconds = time.perf_counter() - started
    return run, seconds, len(queries.captured_queries)


def main() -> int:
    args = parse_args()
    drop_database(SUFFIX)  # the ledger is append-only: a run cannot be undone
    setup_django(suffix=SUFFIX, cache_prefix="bench-settlement")
    world = seed_world(args.cooperatives)

    seed_fulfilments(args.warmup, world, 0)
    small, small_s, small_q = settle()
    seed_fulfilments(args.fulfilments, world, args.warmup)
    large, large_s, large_q = settle()

    from payments import exports
    from payments.selectors import bank_batch_payouts
    from payments.services.payouts import bank_batch_create

    started = time.perf_counter()
    batch = bank_batch_create(user=None)
    header, rows = exports.batch_rows(batch, bank_batch_payouts(batch=batch))
    csv_bytes = exports.as_csv([header, *rows])
    csv_s = time.perf_counter() - started
    started = time.perf_counter()
    xlsx_bytes = exports.as_xlsx([header, *rows], "batch")
    xlsx_s = time.perf_counter() - started

    print(
        f"settlement of {small.fulfilments_count} fulfilments, {small.statements_count} "
        f"statements: {small_s:.2f} s, {small.fulfilments_count / small_s:.0f} fulfilments/s, "
        f"{small_q} queries ({small_q / small.statements_count:.2f} per statement)"
    )
    print(
        f"settlement of {large.fulfilments_count} fulfilments, {large.statements_count} "
        f"statements: {large_s:.2f} s, {large.fulfilments_count / large_s:.0f} fulfilments/s, "
        f"{large_q} queries ({large_q / large.statements_count:.2f} per statement)"
    )
    print(
        f"bank batch of {len(rows)} payouts: made and written as CSV in {csv_s * 1000:.0f} ms "
        f"({len(csv_bytes)} bytes), as XLSX in {xlsx_s * 1000:.0f} ms ({len(xlsx_bytes)} bytes)"
    )
    if large_q > small_q:
        print("FAIL: queries grew with the number of fulfilments")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
