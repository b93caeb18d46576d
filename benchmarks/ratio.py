"""Measure an endpoint as a ratio: the project's answer against a bare Django view serving the
same bytes, both under gunicorn with the same workers, loaded by ``wrk`` in the same run.

Absolute requests/s on a shared 2-core machine move by a quarter from run to run; the ratio of
two servers measured side by side, alternately, does not. ``wrk`` (C, one thread, a handful of
connections) is light enough not to take the cores the servers need, which Python client
threads would.
"""

import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, free_port, request, stop_gunicorn

HERE = Path(__file__).resolve().parent
# What the baseline repeats of the project's answer: the bytes and how to read them.
KEPT_HEADERS = ("content-type", "content-encoding", "vary", "cache-control", "etag")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ensure_wrk() -> str:
    """wrk's path; installed from Debian's packages when missing and we may install."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package) ...", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


def record(
    port: int, paths: list[str], headers: dict, *, method: str = "GET", body: bytes | None = None
) -> dict:
    """The project's answers to ``paths``, as the baseline will repeat them."""
    answers = {}
    for path in paths:
        status, got, body = request(port, method, path, headers, body)
        if status not in (200, 201):
            sys.exit(f"GET {path} answered {status}: {body[:300]!r}")
        answers[path] = (status, {k: v for k, v in got.items() if k in KEPT_HEADERS}, body)
    return answers


def start_baseline(answers: dict, *, workers: int) -> tuple[subprocess.Popen, int, str]:
    """gunicorn serving ``baseline_app`` with ``answers``; same worker class and count as the
    project's. Returns (process, port, answers file) - remove the file when done."""
    import gunicorn

    handle, answers_file = tempfile.mkstemp(prefix="baseline-", suffix=".pickle")
    with os.fdopen(handle, "wb") as file:
        pickle.dump(answers, file)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "baseline_app:application",
        "--worker-class=sync",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={HERE}",
        "--log-level=warning",
    ]
    if gunicorn.version_info >= (25, 1):
        command.append("--no-control-socket")
    env = {**os.environ, "BASELINE_ANSWERS": answers_file}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    return process, port, answers_file


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx/3xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: "Load") -> "Load":
        """Two rounds as one: counts add; latencies are the worse of the two."""
        return Load(
            self.requests + other.requests,
            self.seconds + other.seconds,
            max(self.p50_ms, other.p50_ms),
            max(self.p99_ms, other.p99_ms),
            self.failed + other.failed,
        )


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def wrk(
    port: int,
    path: str,
    headers: dict,
    *,
    seconds: int,
    connections: int = 8,
    script: str | None = None,
    env: dict | None = None,
) -> Load:
    """One wrk round against 127.0.0.1:port; its summary, parsed."""
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", out)
    if not done:
        sys.exit(f"cannot read wrk's output:\n{out}")
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    # A sync gunicorn worker closes each connection; wrk counts that close as a read error
    # after a complete answer, so only connect, write and timeout errors are failures.
    socket_failures = sum(int(sockets.group(i)) for i in (1, 3, 4)) if sockets else 0
    return Load(
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2) + done.group(3)) / 1e3,
        p50_ms=_duration_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_duration_ms(p99.group(1)) if p99 else float("nan"),
        failed=(int(non2xx.group(1)) if non2xx else 0) + socket_failures,
    )


def side_by_side(
    project_port: int,
    baseline_port: int,
    path: str,
    headers: dict,
    *,
    seconds: int,
    rounds: int = 2,
    connections: int = 8,
    script: str | None = None,
) -> tuple[Load, Load]:
    """Alternate rounds (baseline, project, baseline, ...) so that drift in the machine's load
    falls on both alike; answer (project, baseline) summed over the rounds."""
    project = baseline = None
    for _ in range(rounds):
        b = wrk(
            baseline_port, path, headers, seconds=seconds, connections=connections, script=script
        )
        p = wrk(
            project_port, path, headers, seconds=seconds, connections=connections, script=script
        )
        baseline = b if baseline is None else baseline.add(b)
        project = p if project is None else project.add(p)
    return project, baseline


def print_comparison(label: str, project: Load, baseline: Load, target: float | None) -> bool:
    """One line per endpoint: both servers' figures and the ratio; answers whether the ratio
    meets ``target`` (no target: always)."""
    ratio = project.per_second / baseline.per_second if baseline.per_second else 0.0
    met = target is None or ratio >= target
    verdict = "" if target is None else f"  target >= {target:.2f} {'met' if met else 'MISSED'}"
    print(
        f"  {label:<44} {project.per_second:>8.0f}/s p50 {project.p50_ms:>6.1f} ms "
        f"p99 {project.p99_ms:>6.1f} ms | baseline {baseline.per_second:>7.0f}/s "
        f"| ratio {ratio:.3f}{verdict}"
    )
    if project.failed or baseline.failed:
        print(f"    failed answers: project {project.failed}, baseline {baseline.failed}")
    return met


__all__ = [
    "Load",
    "ensure_wrk",
    "print_comparison",
    "record",
    "side_by_side",
    "start_baseline",
    "stop_gunicorn",
    "wrk",
]
