"""Fuzz the whole API from its own OpenAPI schema: no 5xx, and no answer the schema does not
describe.

First a corpus of malformed requests (scripts/malformed_corpus.py: deep nesting, invalid
UTF-8, tampered cursors, out-of-range ids and amounts), then schemathesis's schema-driven
cases, with the hooks of scripts/fuzz_hooks.py: valid data is steered to rows of the demo
data each role can see (collected here through the API, after placing a few orders and moving
them along so every step of the lifecycle has a fulfilment to take), and a refusal of valid
data passes only when fuzz_hooks.REFUSALS names it.

Part of `make test`. A fresh PostgreSQL database "<DATABASE_URL's database>_fuzz" gets the
migrations and the demo data, gunicorn serves it on a free loopback port, and schemathesis
sends generated requests (valid and invalid, fixed seed, bounded count) to every operation as
platform staff, a buyer purchaser, a buyer approver, a cooperative manager and a partner
system's API key. Every answer must conform to the schema (status code, content type, body),
and data the schema calls valid must be accepted. Only 127.0.0.1 is contacted.
"""

import datetime
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import malformed_corpus  # a sibling script: scripts/ is on the path when this one runs

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Every role the API serves: people sign in by phone; the partner system sends its API key.
ROLES = {
    "staff": "13800000001",
    "buyer": "13800000005",
    "approver": "13800000007",
    "manager": "13800000002",
}
PARTNER_KEY = "DemoHema.hema-nanming-demo-key-not-for-production"
PASSWORD = "shitun-demo-2026"
# The malformed corpus only has to reach every code path once per kind of caller.
CORPUS_ROLES = ("staff", "buyer", "manager")
SEED = "20261129"
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "15")
# Not only "no 5xx": every answer must be one the schema documents, in the documented shape
# and content type, and data the schema calls valid must be accepted.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
    ]
)
# The same limits as docker/gunicorn.conf.py: Django, not gunicorn, refuses long URLs (414).
GUNICORN_LIMITS = ["--limit-request-line", "0", "--limit-request-field_size", "65536"]
# Every row kind a body or a path names, read through the API as each role sees it.
RESOURCES = [
    "bank-batches",
    "bank-transfers",
    "buyers",
    "categories",
    "cooperatives",
    "delivery-runs",
    "delivery-schedules",
    "fulfilments",
    "households",
    "listings",
    "lots",
    "negotiated-prices",
    "notices",
    "orders",
    "outbox",
    "payments",
    "payouts",
    "webhook-endpoints",
    "products",
    "purchase-imports",
    "refunds",
    "settlement-runs",
    "shipments",
    "standing-orders",
    "statements",
    "stores",
]


def fresh_database(url: str, suffix: str, template: str | None = None) -> str:
    """A new database "<DATABASE_URL's database>_fuzz_<suffix>", empty or a copy of
    ``template`` (a database URL nothing is connected to)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'shitun'}_fuzz_{suffix}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        source = urlsplit(template).path.lstrip("/")
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(source)
        )
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(create)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def serving(env: dict, workers: int) -> Iterator[str]:
    """gunicorn on a free loopback port for the database in ``env``; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            *GUNICORN_LIMITS,
            "backend.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body: dict, authorization: str = "") -> dict:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def post_file(url: str, name: str, content: bytes, authorization: str) -> dict:
    """A multipart upload of one file, as a browser sends a form's file field."""
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": authorization,
    }
    request = urllib.request.Request(url, body, headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def get_json(url: str, authorization: str) -> dict | list | None:
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError:
        return None  # a role that may not list it


def place_orders(base: str, credentials: dict[str, str]) -> None:
    """Orders for the purchasing team and the partner, and the honey cooperative's parts of
    them moved along (confirmed, packed, shipped, delivered), so every step of the lifecycle
    has a fulfilment whose next move schemathesis can make; and a spare cooperative."""
    listings = get_json(f"{base}/api/v1/listings/?page_size=100", credentials["staff"])
    by_name = {item["packaging"][:5]: item for item in listings["results"]}
    drum, bag = by_name["25 kg"], by_name["5 kg "]
    honey_fulfilments = []
    for role, count in (("buyer", 6), ("partner", 2)):
        store = get_json(f"{base}/api/v1/stores/", credentials[role])["results"][0]["id"]
        for _ in range(count):
            order = post_json(
                f"{base}/api/v1/orders/",
                {
                    "store": store,
                    "lines": [
                        {"listing": drum["id"], "quantity": drum["min_order_quantity"]},
                        {"listing": bag["id"], "quantity": bag["min_order_quantity"]},
                    ],
                },
                credentials[role],
            )
            honey_fulfilments += [
                f["id"] for f in order["fulfilments"] if f["cooperative"] == drum["cooperative"]
            ]
        # Purchase lists to read and place: the same lines, previewed (placing makes orders).
        purchase_list = (
            "商品编号,数量,门店\n"
            f"{drum['id']},{drum['min_order_quantity']},{store}\n"
            f"{bag['id']},{bag['min_order_quantity']},{store}\n"
        ).encode()
        for _ in range(2):
            post_file(
                f"{base}/api/v1/purchase-imports/", "list.csv", purchase_list, credentials[role]
            )
    # A cooperative nobody orders from, for staff's writes to cooperatives to change (one
    # closed early would hide the listings every order and standing order names).
    post_json(
        f"{base}/api/v1/cooperatives/",
        {
            "name_zh": "望谟县石屯镇菌菇合作社",
            "credit_code": "93522326MA6HMG03KD",  # check character computed
            "village": "纳包村",
            "contact_phone": "13985900003",
        },
        credentials["staff"],
    )
    moves = ["confirm", "pack", "ship", "deliver"]
    for depth, fulfilment in enumerate(honey_fulfilments[: len(moves)]):
        for move in moves[: depth + 1]:
            authorization = credentials["buyer" if move == "deliver" else "manager"]
            post_json(f"{base}/api/v1/fulfilments/{fulfilment}/{move}/", {}, authorization)


def rows(base: str, resource: str, authorization: str) -> list[dict] | None:
    """The rows the role sees (up to 100), or None when it may not list them."""
    page = get_json(f"{base}/api/v1/{resource}/?page_size=100", authorization)
    if isinstance(page, list):  # a list without pages (certifications)
        return page
    return page["results"] if isinstance(page, dict) else None


def world(base: str, role: str, authorization: str) -> dict:
    """What fuzz_hooks steers valid data to: the rows this role can see."""
    listed = {resource: rows(base, resource, authorization) for resource in RESOURCES}
    seen = {resource: items or [] for resource, items in listed.items()}
    ids = {resource: [row["id"] for row in items] for resource, items in seen.items()}
    codes = rows(base, "certifications", authorization) or []
    ids["certifications"] = [row["code"] for row in codes]
    ids["managers"] = sorted({m for row in seen["cooperatives"] for m in row.get("managers", [])})
    ids["stores"] = [row["id"] for row in seen["stores"] if row["is_active"]]
    ids["delivery-notes"] = ids["fulfilments"]  # a fulfilment's note: /delivery-notes/{id}/
    keys = rows(base, "partner-keys", authorization) or []  # named by prefix, not id
    ids["partner-keys"] = [row["prefix"] for row in keys]
    ids["partner-accounts"] = sorted({row["partner"] for row in keys})
    orderable = [
        {
            "id": row["id"],
            "min": row["min_order_quantity"],
            "step": row["order_increment"],
            "lead": row["lead_time_days"],
        }
        for row in seen["listings"]
        if row["status"] == "active" and float(row["available_quantity"]) > 0
    ]
    # Rows the other operations order from: writes to a path go to the other rows when there
    # are any, so a listing paused or a store closed early does not refuse the rest of the run.
    live = [row for row in seen["listings"] if row["id"] in {item["id"] for item in orderable}]
    in_use = {
        "listings": [row["id"] for row in live],
        "products": sorted({row["product"] for row in live}),
        "stores": [row["id"] for row in seen["stores"][:1]],
        "buyers": sorted({row["organisation"] for row in seen["stores"][:1]}),
        "cooperatives": sorted({row["cooperative"] for row in live}),
    }
    listing_cooperative = {str(row["id"]): row["cooperative"] for row in seen["listings"]}
    household_cooperative = {str(row["id"]): row["cooperative"] for row in seen["households"]}
    # A manager sees only their cooperatives' households, and writes only their listings' rows.
    own = set(household_cooperative.values()) if role == "manager" else set()
    own_listings = [row["id"] for row in seen["listings"] if row["cooperative"] in own]
    listing_min = {str(row["id"]): row["min_order_quantity"] for row in seen["listings"]}
    fulfilment_lines = {
        str(row["id"]): [
            {k: line[k] for k in ("id", "quantity", "confirmed_quantity")} for line in row["lines"]
        ]
        for row in seen["fulfilments"]
    }
    # A refund's part is one of its payment's order.
    payment_parts = {
        str(payment["id"]): [
            row["id"] for row in seen["fulfilments"] if row.get("order") == payment["order"]
        ]
        for payment in seen["payments"]
    }
    phone = ROLES.get(role, ROLES["staff"])  # the partner has no password: sign in as staff
    return {
        "role": role,
        "today": datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat(),
        "login": {"phone": phone, "password": PASSWORD},
        "ids": ids,
        "orderable": orderable,
        "fulfilment_lines": fulfilment_lines,
        "payment_parts": payment_parts,
        "listing_min": listing_min,
        "in_use": in_use,
        "listing_cooperative": listing_cooperative,
        "household_cooperative": household_cooperative,
        "own_listings": own_listings,
        # Lists the role may read and that hold nothing it can see (a manager's buyers).
        "none_visible": [resource for resource, items in listed.items() if items == []],
    }


def schemathesis(
    base: str, authorization: str, env: dict, role_world: dict
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            BIN / "schemathesis",
            "run",
            f"{base}/api/schema/?format=json",
            "--header",
            f"Authorization: {authorization}",
            "--checks",
            CHECKS,
            "--exclude-path",
            "/api/v1/auth/logout/",  # would revoke the token in use
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--request-timeout",
            "20",
            *(
                # Where the role sees no row at all, every id is a 404 (a row it may not see is
                # not found): nothing there for valid data to reach.
                ["--exclude-path-regex", rf"^/api/v1/({'|'.join(unseen)})/\{{id\}}/"]
                if (unseen := role_world["none_visible"])
                else []
            ),
        ],
        cwd=ROOT,
        env={
            **env,
            "NO_COLOR": "1",
            "SCHEMATHESIS_HOOKS": str(ROOT / "scripts" / "fuzz_hooks.py"),
            "FUZZ_WORLD": json.dumps(role_world),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL server")
    common = {
        **os.environ,
        # With DATABASE_URL set the settings need a key; a throwaway one unless given.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "LOG_LEVEL": "ERROR",
        # The demo's webhook endpoint and the fuzz's own are receivers on 127.0.0.1 (nobody
        # listens there: a ping answers a refused connection, and nothing leaves the host).
        "PARTNER_WEBHOOKS_ALLOW_LOOPBACK": "true",
        # The partner's key sends the whole run: its rate limit is not what is fuzzed here.
        "PARTNER_KEY_RATE_LIMIT": "1000000/min",
        # Every valid endpoint a role adds reaches the logic (the cap is a unit test's).
        "PARTNER_WEBHOOKS_PER_ORGANISATION": "1000000",
    }

    def env_for(database: str, name: str) -> dict:
        # Each server counts its own login attempts (the throttles live in the cache).
        return {**common, "DATABASE_URL": database, "CACHE_KEY_PREFIX": f"fuzz-{name}"}

    # The demo data, a few orders along the lifecycle and a token per role, prepared once;
    # the corpus and each role then get a copy of their own, so what one run changes (a
    # cooperative's managers replaced, an order cancelled) leaves the others' data as it was.
    template = fresh_database(url, "template")
    env = env_for(template, "template")
    for command in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([BIN / "python", "manage.py", *command], cwd=ROOT, env=env, check=True)
    with serving(env, workers=1) as base:
        credentials = {
            role: "Bearer "
            + post_json(f"{base}/api/v1/auth/token/", {"phone": phone, "password": PASSWORD})[
                "token"
            ]
            for role, phone in ROLES.items()
        }
        credentials["partner"] = f"Api-Key {PARTNER_KEY}"
        place_orders(base, credentials)
        # A key of 惠民生鲜's ERP, so the approver's world knows a partner account of its own.
        post_json(f"{base}/api/v1/partner-keys/", {"name": "fuzz"}, credentials["approver"])

    failed = []
    # FUZZ_CORPUS=0 skips the corpus while working on schemathesis's part; make test runs it.
    if os.environ.get("FUZZ_CORPUS") != "0":
        corpus_env = env_for(fresh_database(url, "corpus", template), "corpus")
        with serving(corpus_env, workers=2) as base:
            if malformed_corpus.run(base, {role: credentials[role] for role in CORPUS_ROLES}):
                failed.append("the malformed-request corpus")

    def fuzz(role: str) -> subprocess.CompletedProcess:
        env = env_for(fresh_database(url, role, template), role)
        with serving(env, workers=1) as base:  # schemathesis sends one request at a time
            return schemathesis(base, credentials[role], env, world(base, role, credentials[role]))

    # FUZZ_ROLES=staff,buyer narrows the run while working on it; make test runs them all.
    roles = [r for r in os.environ.get("FUZZ_ROLES", "").split(",") if r] or list(credentials)
    # Two roles at a time, in separate processes (schemathesis's own --workers are threads,
    # and hypothesis is not thread-safe on Python 3.11); each run's report is printed whole
    # when it ends.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for role, run in zip(roles, pool.map(fuzz, roles), strict=True):
            print(f"--- fuzzing the API as {role}\n{run.stdout}", flush=True)
            if run.returncode:
                failed.append(f"schemathesis as {role}")
    if failed:
        print(f"5xx or answers off the schema found by: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
