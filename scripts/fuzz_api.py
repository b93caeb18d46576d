"""Fuzz the whole API from its own OpenAPI schema: no 5xx, and no answer the schema does not
describe.

First a corpus of malformed requests (scripts/malformed_corpus.py: deep nesting, invalid
UTF-8, tampered cursors, out-of-range ids and amounts), then schemathesis's schema-driven
cases.

Part of `make test`. A fresh PostgreSQL database "<DATABASE_URL's database>_fuzz" gets the
migrations and the demo data, gunicorn serves it on a free loopback port, and schemathesis
sends generated requests (valid and invalid, fixed seed, bounded count) to every operation as
platform staff, a buyer purchaser, a buyer approver, a cooperative manager and a partner
system's API key. Every answer must conform to the schema (status code, content type, body),
and data the schema calls valid must be accepted. Only 127.0.0.1 is contacted.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


def fresh_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'shitun'}_fuzz"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def schemathesis(base: str, authorization: str, env: dict) -> subprocess.CompletedProcess:
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
        ],
        cwd=ROOT,
        env={**env, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL server")
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database(url),
        "CACHE_KEY_PREFIX": "fuzz",
        # With DATABASE_URL set the settings need a key; a throwaway one unless given.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "LOG_LEVEL": "ERROR",
    }
    for command in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([BIN / "python", "manage.py", *command], cwd=ROOT, env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            *GUNICORN_LIMITS,
            "backend.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    failed = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        # Log in first: fuzzing the login endpoint soon trips its per-address throttle.
        credentials = {
            role: "Bearer "
            + post_json(
                f"{base}/api/v1/auth/token/", {"phone": phone, "password": "shitun-demo-2026"}
            )["token"]
            for role, phone in ROLES.items()
        }
        credentials["partner"] = f"Api-Key {PARTNER_KEY}"
        corpus = {role: credentials[role] for role in CORPUS_ROLES}
        if malformed_corpus.run(base, corpus):
            failed.append("the malformed-request corpus")
        # Two roles at a time, as gunicorn serves two, in separate processes (schemathesis's
        # own --workers are threads, and hypothesis is not thread-safe on Python 3.11); each
        # run's report is printed whole when it ends.
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = pool.map(lambda item: schemathesis(base, item[1], env), credentials.items())
            for role, run in zip(credentials, runs, strict=True):
                print(f"--- fuzzing the API as {role}\n{run.stdout}", flush=True)
                if run.returncode:
                    failed.append(f"schemathesis as {role}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failed:
        print(f"5xx or answers off the schema found by: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
