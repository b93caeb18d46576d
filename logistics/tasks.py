from celery import shared_task

from .services import runs_plan


@shared_task
def plan_delivery_runs() -> int:
    """Open the coming runs and put confirmed parts on them (safe to run twice)."""
    return runs_plan()
