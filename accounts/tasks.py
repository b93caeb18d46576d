from celery import shared_task
from django.utils import timezone
from knox.models import AuthToken


@shared_task
def purge_expired_tokens() -> int:
    """Delete expired bearer tokens (knox keeps them until someone tries to use them)."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
