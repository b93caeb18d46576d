"""`manage.py serve`: the API and the background jobs in one process, for the embedded default.

With the in-memory broker (no REDIS_URL) the Celery worker and beat run as threads of this
process, so queued tasks and scheduled jobs really run without Redis. With a real broker they
run as one child process (`celery worker --beat`) that stops with this one. Production runs
gunicorn, workers and beat as separate services instead (docker/compose.yaml).
"""

import atexit
import subprocess
import sys
import threading

from celery.beat import EmbeddedService
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from backend.celery import app


def start_embedded_jobs() -> None:
    worker = app.WorkController(
        pool_cls="solo",
        concurrency=1,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        queues=None,
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    beat = EmbeddedService(
        app, thread=True, schedule_filename=settings.CELERY_BEAT_SCHEDULE_FILENAME
    )
    beat.start()


class Command(BaseCommand):
    help = "Serve the API (and, on the embedded default, the Celery worker and beat)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        if settings.CELERY_BROKER_URL.startswith("memory://"):
            settings.VAR_DIR.mkdir(exist_ok=True)
            start_embedded_jobs()
            self.stdout.write("Background jobs: in-process Celery worker and beat.")
        else:
            settings.VAR_DIR.mkdir(exist_ok=True)
            jobs = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "backend",
                    "worker",
                    "--beat",
                    "--concurrency=2",
                    "--loglevel=INFO",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ]
            )
            atexit.register(jobs.terminate)
            self.stdout.write("Background jobs: Celery worker and beat (child process).")
        # runserver's auto-reloader would fork a second process without these threads.
        call_command("runserver", addrport, use_reloader=False, use_threading=True)
