"""What the benchmark scripts share: a database of their own, Django set up on it, gunicorn on
a free loopback port, one HTTP request per connection, percentiles.

Only 127.0.0.1 is ever contacted, and gunicorn is always stopped by the script that started it.
"""

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- the benchmark database -------------------------------------------------------------------


def bench_database(url: str, suffix: str = "_bench") -> tuple[str, str]:
    """DATABASE_URL of the dedicated database ("<name><suffix>") and its name."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"DATABASE_URL must be PostgreSQL (postgres://...), not {parts.scheme or url!r}")
    name = parts.path.lstrip("/") or "shitun"
    bench = name if name.endswith(suffix) else f"{name}{suffix}"
    return urlunsplit(parts._replace(path=f"/{bench}")), bench


def ensure_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    last_error = None
    for maintenance_db in ("postgres", "template1"):
        maintenance = urlunsplit(urlsplit(url)._replace(path=f"/{maintenance_db}"))
        try:
            with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if found.fetchone() is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    print(f"created database {name}")
                return
        except psycopg.OperationalError as exc:
            last_error = exc
    sys.exit(f"cannot reach PostgreSQL to create {name}: {last_error}")


def drop_database(suffix: str) -> None:
    """Drop "<DATABASE_URL's database><suffix>", so that the run starts from an empty one."""
    import psycopg
    from psycopg import sql

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit(f"Set DATABASE_URL to a PostgreSQL server (the benchmark uses <db>{suffix}).")
    _bench_url, name = bench_database(url, suffix)
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def setup_django(*, suffix: str, cache_prefix: str) -> tuple[str, str]:
    """Point Django at "<DATABASE_URL's database><suffix>" (created if missing), set it up and
    migrate. Returns (url, name) of the benchmark database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit(f"Set DATABASE_URL to a PostgreSQL server (the benchmark uses <db>{suffix}).")
    bench_url, bench_name = bench_database(url, suffix)
    ensure_database(bench_url, bench_name)

    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("CACHE_KEY_PREFIX", cache_prefix)
    # With DATABASE_URL set the settings need a key; a throwaway one unless given (gunicorn
    # inherits it through the environment).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if settings.DEBUG:
        sys.exit("DEBUG is on: it keeps every query in memory; benchmark with DEBUG=false.")
    call_command("migrate", verbosity=0, interactive=False)
    return bench_url, bench_name


# --- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(*, workers: int, env: dict, stderr=None) -> tuple[subprocess.Popen, int]:
    """gunicorn on a free loopback port; its log goes to ``stderr`` (default: ours)."""
    import gunicorn

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "backend.wsgi:application",
        "--worker-class=sync",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={ROOT}",
        "--log-level=warning",
        "--timeout=60",
    ]
    if gunicorn.version_info >= (25, 1):
        command.append("--no-control-socket")  # else every gunicorn here shares ~/.gunicorn
    # A session of its own: Ctrl-C reaches this script, which then stops gunicorn in order.
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stderr=stderr)
    return process, port


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with status {process.returncode}")
        try:
            status, body = get(port, "/healthz", {}, timeout=5)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        sys.exit(f"/healthz answered {status}: {body[:300]!r}")
    sys.exit(f"gunicorn did not answer /healthz within {timeout:.0f} s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # graceful: the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group we started
    except ProcessLookupError:
        pass
    process.wait()


# --- HTTP ---------------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    headers: dict,
    body: bytes | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    """One request to 127.0.0.1:port: (status, lower-cased headers, body)."""
    # gunicorn's sync workers close the connection after each response: one per request.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
    finally:
        connection.close()


def get(port: int, path: str, headers: dict, timeout: float = 30) -> tuple[int, bytes]:
    status, _headers, body = request(port, "GET", path, headers, timeout=timeout)
    return status, body


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_clients(threads, stop) -> float:
    """Start the client threads, wait for all (Ctrl-C stays responsive, then sets ``stop``),
    and answer the seconds they took."""
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        stop.set()
    return time.perf_counter() - started
