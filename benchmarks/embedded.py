"""Benchmark: the embedded default (`make run`: SQLite, no Redis), in-process.

    make benchmark-embedded
    .venv/bin/python benchmarks/embedded.py --requests 200
    .venv/bin/python benchmarks/embedded.py --root /path/to/an/older/checkout   # compare

What it does, in a SQLite file of its own under a temporary directory (var/ is never touched),
with the embedded default's settings (SQLite taking its write lock at BEGIN, the cache in
process memory, so no remembered tokens and no page cache):
1. migrates and seeds it like listings.py and orders.py (300 live listings, a buyer with a
   bearer token; 20 listings with ample stock for orders);
2. calls the WSGI application in a loop, as the development server does for each request,
   and prints the median and p90 milliseconds (wall and CPU) of a buyer's
   GET /api/v1/listings/?page_size=50 and of POST /api/v1/orders/ of 1-3 lines.

The embedded default must not get slower when the production path gets faster: run it here and
with ``--root`` on the commit before, on the same machine at the same time, and compare. Not a
test: the figures depend on the machine.
"""

import argparse
import importlib.util
import io
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind (200)")
    parser.add_argument(
        "--root",
        type=Path,
        default=HERE.parent,
        help="the checkout whose code is measured (default: this one)",
    )
    args = parser.parse_args()
    if not 10 <= args.requests <= 10_000:
        parser.error("--requests must be 10..10000")
    return args


def setup(root: Path, directory: str) -> None:
    """Django on a fresh SQLite file with the embedded default's settings, from ``root``."""
    for name in ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(name, None)
    # A file of its own, not var/db.sqlite3: set as DATABASE_URL, so a key is needed.
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/embedded.sqlite3"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
    sys.path[:0] = [str(root), str(HERE)]
    os.chdir(root)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def environ(method: str, path: str, token: str, body: bytes = b"", **headers) -> dict:
    query = path.partition("?")[2]
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.partition("?")[0],
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }


def measure(application, make_environ, count: int, expected: str) -> tuple[list, list]:
    """(wall ms, CPU ms) of ``count`` calls, after 10 not counted."""
    walls, cpus = [], []
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for n in range(count + 10):
        environ_ = make_environ(n)
        wall, cpu = time.perf_counter(), time.process_time()
        answer = application(environ_, start_response)
        b"".join(answer)
        answer.close()
        if n >= 10:
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    wrong = [status for status in statuses if not status.startswith(expected)]
    if wrong:
        sys.exit(f"expected {expected}, answered {wrong[0]}")
    return walls, cpus


def show(label: str, walls: list, cpus: list) -> None:
    def p90(values):
        return statistics.quantiles(values, n=10)[-1]

    print(
        f"  {label:<44} wall median {statistics.median(walls):6.1f} ms, p90 {p90(walls):6.1f} ms"
        f" | CPU median {statistics.median(cpus):6.1f} ms"
    )


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="shitun-embedded-") as directory:
        setup(args.root.resolve(), directory)
        from django.core.wsgi import get_wsgi_application
        from listings import seed as seed_listings

        # benchmarks/orders.py, by path: on sys.path its name is the orders app's.
        spec = importlib.util.spec_from_file_location("orders_benchmark", HERE / "orders.py")
        orders_benchmark = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(orders_benchmark)

        _listings, token = seed_listings(cooperatives=3, products=25)
        seeded = orders_benchmark.seed(cooperatives=3, listings=20, organisations=4)
        orders_benchmark.reset(seeded, stock=1_000_000, run="embedded")
        application = get_wsgi_application()
        print(f"embedded default, in-process, code of {args.root.resolve()}: SQLite, no Redis")

        walls, cpus = measure(
            application,
            lambda n: environ("GET", "/api/v1/listings/?page_size=50", token),
            args.requests,
            "200",
        )
        show("GET /api/v1/listings/?page_size=50", walls, cpus)

        rng = random.Random(2026)
        ids = seeded["listings"]

        def place(n):
            buyer = seeded["buyers"][n % len(seeded["buyers"])]
            lines = [
                {"listing": listing, "quantity": str(5 * rng.randint(1, 4))}
                for listing in rng.sample(ids, rng.randint(1, 3))
            ]
            body = json.dumps({"store": buyer["store"], "lines": lines}).encode()
            return environ(
                "POST", "/api/v1/orders/", buyer["token"], body, idempotency_key=uuid.uuid4().hex
            )

        walls, cpus = measure(application, place, args.requests, "201")
        show("POST /api/v1/orders/ (1-3 lines)", walls, cpus)


if __name__ == "__main__":
    main()
