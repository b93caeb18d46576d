from celery import shared_task

from . import reminders, services


@shared_task(acks_late=True)
def send_notice(notice_id: int) -> str:
    return services.notice_send(notice_id=notice_id)


@shared_task(acks_late=True)
def queue_notices(notice_ids: list[int]) -> int:
    return services.fan_out(notice_ids)


@shared_task
def sweep_notices() -> int:
    return services.notices_sweep()


@shared_task
def send_reminders() -> dict:
    return reminders.reminders_send()
