"""Who may see or do what with partner API keys and webhook endpoints: the one place that
says it.

- API keys: platform staff see and revoke every key (and issue them in the admin too); a
  buyer organisation's approvers see, create and revoke the keys of their organisation's
  partner accounts. Purchasers and partner systems themselves manage no keys: a key
  that could mint keys would outlive its own revocation.
- Webhook endpoints: staff and the organisation's approvers read and write them. Reads never
  show the secret; it is answered once, on creation and on rotation.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.access import SignedInPermission, is_staff
from accounts.models import User
from backend.errors import Forbidden
from buyers.access import is_approver, is_member_of, organisation_id_of
from buyers.models import Membership


# --- predicates -------------------------------------------------------------------------------
def may_manage_integrations(user) -> bool:
    """Staff, or an approver of some buyer organisation (the scopes say which rows)."""
    return is_staff(user) or (is_approver(user) and user.role == User.Role.BUYER)


def check_organisation(*, user, organisation_id: int) -> None:
    """A webhook endpoint (or key) belongs to the approver's own organisation."""
    if not (is_staff(user) or is_member_of(user, organisation_id, Membership.Role.APPROVER)):
        raise Forbidden(
            _("You can only manage your own organisation's integrations."),
            fields={"organisation": [_("Not your organisation.")]},
        )


# --- scopes ------------------------------------------------------------------------------------
def keys_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff: every key; an approver: the keys of its organisation's partner accounts."""
    if is_staff(user):
        return queryset
    if not may_manage_integrations(user):
        return queryset.none()
    return queryset.filter(user__buyer_membership__organisation_id=organisation_id_of(user=user))


def partner_accounts_for_keys(*, user, queryset: QuerySet) -> QuerySet:
    """The partner accounts a new key may be issued for: an approver's organisation's."""
    queryset = queryset.filter(role=User.Role.PARTNER, is_active=True)
    if is_staff(user):
        return queryset
    return queryset.filter(buyer_membership__organisation_id=organisation_id_of(user=user))


def endpoints_visible(*, user, queryset: QuerySet) -> QuerySet:
    if is_staff(user):
        return queryset
    if not may_manage_integrations(user):
        return queryset.none()
    return queryset.filter(organisation_id=organisation_id_of(user=user))


# --- DRF permissions ---------------------------------------------------------------------------
class IntegrationPermission(SignedInPermission):
    """Staff and approvers (the scopes say whose rows); nobody else, not even to read."""

    def allows(self, request, view):
        return may_manage_integrations(request.user)
