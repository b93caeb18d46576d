"""Stripe Connect payouts: a cooperative with a connected account (``Cooperative.
stripe_account``) is paid by one Stripe Transfer per statement from the platform's balance.

- **One transfer per statement**, keyed by the statement's payout (``Payout.idempotency_key``,
  unique per statement): a statement covers many orders, the cooperative is owed its net, not
  an amount per order, and one transfer is one thing to reconcile. Its ``transfer_group`` is
  the statement's (``statement_<id>``), and the metadata names the statement; the orders it
  paid are the statement's lines. (A transfer per order, grouped with that order's charge
  under ``order_<id>``, would need the net split per order and a row per transfer; not worth
  it while buyers pay by bank transfer.)
- **Three answers.** A transfer made: paid. Stripe refused it (insufficient platform balance,
  an unknown account): failed, nothing was moved, and the next attempt needs a new key,
  since Stripe keeps the refusal under the old one. No answer (Stripe down, the rail switched
  off since settlement): the outcome is unknown, so the next attempt reuses the key and
  Stripe answers with whatever happened the first time.
- **A retry looks first.** Stripe keeps an idempotency key for 24 hours; a retry after that
  (staff's, days after an answer was lost) would make a second transfer under the same key.
  So an attempt after one whose answer was lost (``Payout.unanswered``) first lists the
  statement's transfer group at the cooperative's account and adopts a transfer of the
  payout's amount already there; only if none is found does it send. A lookup that gets no
  answer is itself an unknown outcome. (A refusal makes no transfer: nothing to look for.)
"""

from django.utils.translation import gettext

from backend.money import to_fen

from .. import stripe_gateway
from ..models import Payout, PayoutRail
from .base import Outcome


def transfer_group_for_statement(statement_id: int) -> str:
    return f"statement_{statement_id}"


def provider_key(payout) -> str:
    """The idempotency key of the payout's next transfer: the payout's own key, and after
    each refusal a new one (``…:r1``, ``…:r2``)."""
    if payout.refusals:
        return stripe_gateway.idempotency_key(payout.idempotency_key, f"r{payout.refusals}")
    return stripe_gateway.idempotency_key(payout.idempotency_key)


class StripeConnectPayoutRail:
    name = PayoutRail.STRIPE_TRANSFER

    def is_available(self) -> bool:
        return stripe_gateway.is_enabled()

    def send(self, *, payout) -> Outcome:
        """Transfer ``payout.amount`` to the statement's cooperative under
        ``provider_key(payout)``. ``Outcome.status`` is paid (``reference``: the transfer id),
        failed (refused: nothing moved) or pending (no answer: unknown, retry with the same
        key)."""
        destination = payout.statement.cooperative.stripe_account
        if not destination:
            return Outcome(
                status=Payout.Status.FAILED,
                reason=gettext("The cooperative has no Stripe connected account."),
            )
        group = transfer_group_for_statement(payout.statement_id)
        if payout.unanswered:
            try:
                made = _made_before(payout, destination, group)
            except stripe_gateway.GatewayError as exc:  # not known whether one was made
                return Outcome(status=Payout.Status.PENDING, reason=exc.message)
            if made is not None:
                return Outcome(status=Payout.Status.PAID, reference=made.id)
        try:
            transfer = stripe_gateway.create_transfer(
                destination_account=destination,
                amount_fen=to_fen(payout.amount),
                transfer_group=group,
                idempotency_key=provider_key(payout),
                metadata={"statement": str(payout.statement_id), "payout": str(payout.pk)},
            )
        except stripe_gateway.StripeUnavailable as exc:
            return Outcome(status=Payout.Status.PENDING, reason=exc.message)
        except stripe_gateway.GatewayError as exc:
            return Outcome(status=Payout.Status.FAILED, reason=exc.message)
        return Outcome(status=Payout.Status.PAID, reference=transfer.id)

    def made_before(self, *, payout) -> str:
        """The id of a transfer an earlier attempt made for the payout, or "" if none:
        GatewayError (StripeUnavailable: 503) when Stripe cannot say."""
        destination = payout.statement.cooperative.stripe_account or None
        group = transfer_group_for_statement(payout.statement_id)
        made = _made_before(payout, destination, group)
        return made.id if made is not None else ""


def _made_before(payout, destination: str | None, group: str) -> stripe_gateway.Transfer | None:
    """A transfer an earlier attempt made for this payout (its answer lost): one of the
    payout's amount in the statement's group to the cooperative, not reversed."""
    amount_fen = to_fen(payout.amount)
    for transfer in stripe_gateway.list_transfers(
        transfer_group=group, destination_account=destination
    ):
        if transfer.amount_fen == amount_fen and not transfer.reversed:
            return transfer
    return None
