"""Payouts: Stripe Connect transfers (one per statement, keyed by the statement) through the
real SDK against the fake Stripe, the state machine pending → paid or failed with the
reason, retries with backoff under the right idempotency key, staff's retry, and the bank
batch when Stripe is off here. Real Celery workers and SIGKILL: test_payout_worker_lost.py."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.ledger import balance
from payments.models import Account, LedgerTransaction, Payout, Statement
from payments.rails import payout_rail_name_for
from payments.services.payouts import (
    bank_batch_create,
    payout_send,
    payouts_due,
    retry_delay,
)
from payments.services.settlement import settlement_run
from payments.tasks import send_due_payouts, send_payout
from tests.conftest import assert_error, wait_for
from tests.payments.test_settlement import pay

pytestmark = pytest.mark.django_db

NET_FEN = 98940  # delivered_order: 1,020.00 accepted, 3% commission: 989.40 net


@pytest.fixture
def connected(cooperative, fake_stripe):
    """The cooperative has a Stripe connected account (and keeps its bank details)."""
    cooperative.stripe_account = fake_stripe.create_account()
    cooperative.save(update_fields=["stripe_account"])
    return cooperative


@pytest.fixture
def payout(connected, delivered_order, staff_user):
    """The cooperative's statement, settled with Stripe on: one transfer payout, due now."""
    pay(staff_user, delivered_order)
    settlement_run(user=staff_user)
    return Payout.objects.get()


def transfer_posts(fake_stripe):
    return [r for r in fake_stripe.requests if (r.method, r.path) == ("POST", "/v1/transfers")]


def make_due(payout):
    """Time passes: the scheduled attempt has come."""
    Payout.objects.filter(pk=payout.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def test_payout_tasks_are_idempotent_and_acknowledged_late():
    for task in (send_payout, send_due_payouts):
        assert task.acks_late and task.reject_on_worker_lost


def test_a_connected_cooperative_is_paid_by_one_transfer_keyed_by_its_statement(
    payout, fake_stripe, connected
):
    fake_stripe.top_up(100000)
    statement = payout.statement
    assert (payout.rail, payout.status, payout.attempts) == ("stripe_transfer", "pending", 0)
    assert payouts_due() == [payout.pk]

    payout = payout_send(payout_id=payout.pk)

    (transfer,) = fake_stripe.objects("transfer")
    assert transfer["amount"] == NET_FEN and transfer["currency"] == "cny"
    assert transfer["destination"] == connected.stripe_account
    assert transfer["transfer_group"] == f"statement_{statement.pk}"
    assert transfer["metadata"]["statement"] == str(statement.pk)
    (request,) = transfer_posts(fake_stripe)
    assert request.idempotency_key == f"shitun:statement-{statement.pk}-payout"
    assert (payout.status, payout.provider_reference, payout.attempts) == (
        "paid",
        transfer["id"],
        1,
    )
    assert payout.next_attempt_at is None and payout.failure_reason == ""
    statement.refresh_from_db()
    assert statement.status == "paid" and statement.paid_at is not None
    assert balance(account=Account.COOPERATIVE_PAYABLE, cooperative_id=connected.pk) == 0
    assert LedgerTransaction.objects.filter(key=f"payout:{payout.pk}:paid").count() == 1
    assert fake_stripe.state.balance_fen == 100000 - NET_FEN

    # Sent again (a duplicate message, the next beat): nothing goes to Stripe.
    assert payouts_due() == []
    payout_send(payout_id=payout.pk)
    assert len(transfer_posts(fake_stripe)) == 1


def test_insufficient_balance_fails_with_the_reason_and_retries_later_under_a_new_key(
    payout, fake_stripe
):
    statement = payout.statement
    before = timezone.now()
    payout = payout_send(payout_id=payout.pk)

    assert (payout.status, payout.attempts, payout.refusals) == ("failed", 1, 1)
    assert "balance_insufficient" in payout.failure_reason
    assert before + retry_delay(1) <= payout.next_attempt_at <= timezone.now() + retry_delay(1)
    statement.refresh_from_db()
    assert statement.status == "failed" and "balance_insufficient" in statement.failure_reason
    assert fake_stripe.objects("transfer") == []
    assert payouts_due() == []  # not before its backoff
    payout_send(payout_id=payout.pk)  # a duplicate message before it is due: nothing
    assert len(transfer_posts(fake_stripe)) == 1

    fake_stripe.top_up(NET_FEN)
    make_due(payout)
    assert payouts_due() == [payout.pk]
    payout = payout_send(payout_id=payout.pk)

    # Stripe keeps the refusal under the first key: the retry had to use another.
    keys = [r.idempotency_key for r in transfer_posts(fake_stripe)]
    assert keys == [
        f"shitun:statement-{statement.pk}-payout",
        f"shitun:statement-{statement.pk}-payout:r1",
    ]
    assert (payout.status, payout.attempts, len(fake_stripe.objects("transfer"))) == (
        "paid",
        2,
        1,
    )
    statement.refresh_from_db()
    assert (statement.status, statement.failure_reason) == ("paid", "")


def test_a_lost_answer_is_retried_under_the_same_key_and_pays_once(payout, fake_stripe):
    fake_stripe.top_up(100000)
    fake_stripe.drop_responses(3)  # Stripe makes the transfer; the SDK never hears back
    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.refusals) == ("failed", 0)
    assert len(fake_stripe.objects("transfer")) == 1  # made, though we do not know it

    make_due(payout)
    payout = payout_send(payout_id=payout.pk)

    (transfer,) = fake_stripe.objects("transfer")
    assert (payout.status, payout.provider_reference) == ("paid", transfer["id"])
    assert len({r.idempotency_key for r in transfer_posts(fake_stripe)}) == 1
    assert transfer_posts(fake_stripe)[-1].replayed
    assert fake_stripe.state.balance_fen == 100000 - NET_FEN


def test_backoff_grows_and_after_the_last_attempt_the_payout_waits_for_staff(
    payout, fake_stripe, settings, staff, django_capture_on_commit_callbacks
):
    settings.PAYOUT_MAX_ATTEMPTS = 3
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 240, 960]
    for attempt in (1, 2, 3):
        make_due(payout)
        payout = payout_send(payout_id=payout.pk)
        assert payout.attempts == attempt
    assert payout.status == "failed" and payout.next_attempt_at is None
    make_due(payout)  # even a stale schedule: nothing is due once it gave up
    Payout.objects.filter(pk=payout.pk).update(next_attempt_at=None)
    assert payouts_due() == []

    listed = staff.get("/api/v1/payouts/").json()["results"]
    assert [(p["status"], p["attempts"], p["next_attempt_at"]) for p in listed] == [
        ("failed", 3, None)
    ]

    fake_stripe.top_up(NET_FEN)
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(f"/api/v1/payouts/{payout.pk}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert len(callbacks) == 1  # the send, queued after commit
    assert Statement.objects.get().status == "pending"
    assert payouts_due() == [payout.pk]

    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.attempts) == ("paid", 4)
    assert len(fake_stripe.objects("transfer")) == 1


def snapshot():
    return list(Payout.objects.values()), list(Statement.objects.values())


def test_retrying_a_paid_payout_is_a_409_and_writes_nothing(payout, fake_stripe, staff):
    fake_stripe.top_up(100000)
    payout_send(payout_id=payout.pk)
    before = snapshot()
    response = staff.post(f"/api/v1/payouts/{payout.pk}/retry/")
    assert_error(response, 409, "conflict", "status")
    assert response.json()["error"]["current_status"] == "paid"
    assert snapshot() == before


def test_retrying_a_pending_payout_is_a_409(payout, staff):
    before = snapshot()
    assert_error(staff.post(f"/api/v1/payouts/{payout.pk}/retry/"), 409, "conflict", "status")
    assert snapshot() == before


def test_retrying_a_bank_payout_is_a_409(delivered_order, staff_user, staff):
    pay(staff_user, delivered_order)
    settlement_run(user=staff_user)
    payout = Payout.objects.get()
    assert payout.rail == "bank_batch"
    before = snapshot()
    assert_error(staff.post(f"/api/v1/payouts/{payout.pk}/retry/"), 409, "conflict", "rail")
    assert snapshot() == before


def test_retrying_while_stripe_is_off_is_a_503(payout, fake_stripe, staff, settings):
    payout = payout_send(payout_id=payout.pk)  # no balance: failed
    settings.STRIPE_API_KEY = ""
    before = snapshot()
    response = staff.post(f"/api/v1/payouts/{payout.pk}/retry/")
    assert_error(response, 503, "rail_unavailable")
    assert snapshot() == before


@pytest.mark.parametrize("who", ["manager", "other_manager", "buyer", "purchaser"])
def test_only_staff_retry_payouts(payout, request, who):
    before = snapshot()
    response = request.getfixturevalue(who).post(f"/api/v1/payouts/{payout.pk}/retry/")
    assert_error(response, 403, "permission_denied")
    assert snapshot() == before


def test_retrying_an_unknown_payout_is_a_404(staff, db):
    assert_error(staff.post("/api/v1/payouts/999999/retry/"), 404, "not_found")


def test_without_stripe_a_connected_cooperative_is_paid_by_bank_batch(
    cooperative, delivered_order, staff_user, settings
):
    settings.STRIPE_API_KEY = ""
    cooperative.stripe_account = "acct_1Shitun0Honey0Coop"
    cooperative.save(update_fields=["stripe_account"])
    assert payout_rail_name_for(cooperative) == "bank_batch"

    pay(staff_user, delivered_order)
    settlement_run(user=staff_user)
    payout = Payout.objects.get()
    assert (payout.rail, payout.next_attempt_at) == ("bank_batch", None)
    assert payouts_due() == []
    batch = bank_batch_create(user=staff_user)
    assert list(batch.payouts.values_list("pk", flat=True)) == [payout.pk]
    assert Statement.objects.get().net_payable == Decimal("989.40")


def test_a_payout_kept_on_stripe_while_the_rail_is_switched_off_waits_and_retries(
    payout, fake_stripe, settings
):
    settings.STRIPE_API_KEY = ""  # switched off after settlement chose the rail
    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.refusals) == ("failed", 0)
    assert payout.next_attempt_at is not None
    assert transfer_posts(fake_stripe) == []

    settings.STRIPE_API_KEY = fake_stripe.api_key
    fake_stripe.top_up(NET_FEN)
    make_due(payout)
    assert payout_send(payout_id=payout.pk).status == "paid"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_job_sends_what_is_due_through_a_worker(
    worker, finished_tasks, payout, fake_stripe
):
    fake_stripe.top_up(NET_FEN)
    send_due_payouts.delay()

    assert wait_for(lambda: ("payments.tasks.send_payout", "paid") in finished_tasks)
    assert ("payments.tasks.send_due_payouts", 1) in finished_tasks
    payout.refresh_from_db()
    assert payout.status == "paid" and len(fake_stripe.objects("transfer")) == 1


def test_a_retry_after_stripe_forgot_the_key_adopts_the_transfer_made_before(
    payout, fake_stripe, staff, settings, django_capture_on_commit_callbacks
):
    """The first answer was lost; staff retry days later, when Stripe no longer knows the
    key: the retry finds the transfer by the statement's group and adopts it."""
    settings.PAYOUT_MAX_ATTEMPTS = 1
    fake_stripe.top_up(100000)
    fake_stripe.drop_responses(3)  # made, the answer lost: the SDK's retries too
    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.next_attempt_at) == ("failed", None)  # left for staff
    (made,) = fake_stripe.objects("transfer")
    fake_stripe.forget_idempotency_keys()

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(f"/api/v1/payouts/{payout.pk}/retry/")
    assert response.status_code == 202 and len(callbacks) == 1, response.content
    payout = payout_send(payout_id=payout.pk)  # what the queued send_payout does

    assert (payout.status, payout.provider_reference) == ("paid", made["id"])
    assert fake_stripe.objects("transfer") == [made]
    assert len(transfer_posts(fake_stripe)) == 3  # the first send and the SDK's 2 retries
    assert [r.params for r in lookups(fake_stripe)] == [
        {
            "transfer_group": f"statement_{payout.statement_id}",
            "destination": payout.statement.cooperative.stripe_account,
            "limit": "100",
        }
    ]
    assert fake_stripe.state.balance_fen == 100000 - NET_FEN
    assert Statement.objects.get().status == "paid"
    assert balance(account=Account.COOPERATIVE_PAYABLE) == 0


def lookups(fake_stripe):
    return [r for r in fake_stripe.requests if (r.method, r.path) == ("GET", "/v1/transfers")]


def test_a_retry_after_a_refusal_sends_without_looking(payout, fake_stripe):
    payout = payout_send(payout_id=payout.pk)  # refused: no balance; nothing was made
    assert (payout.status, payout.refusals, payout.unanswered) == ("failed", 1, 0)
    fake_stripe.top_up(NET_FEN)
    make_due(payout)
    payout = payout_send(payout_id=payout.pk)
    (transfer,) = fake_stripe.objects("transfer")
    assert (payout.status, payout.provider_reference) == ("paid", transfer["id"])
    assert lookups(fake_stripe) == []


def test_a_retry_whose_lookup_gets_no_answer_sends_nothing(payout, fake_stripe):
    fake_stripe.top_up(100000)
    fake_stripe.drop_responses(3)
    payout = payout_send(payout_id=payout.pk)
    fake_stripe.forget_idempotency_keys()
    fake_stripe.fail_requests(3)  # the lookup: Stripe's 500, and the SDK's retries
    make_due(payout)
    payout = payout_send(payout_id=payout.pk)
    assert payout.status == "failed" and payout.refusals == 0  # unknown: not a refusal
    assert len(transfer_posts(fake_stripe)) == 3 and len(fake_stripe.objects("transfer")) == 1


def test_a_cooperative_without_bank_details_waits_outside_the_batch_with_the_reason(
    cooperative, other_cooperative, delivered_order, staff_user, staff, purchaser_user, store
):
    from tests.factories import HouseholdFactory, place_order
    from tests.payments.conftest import deliver, traced_listing

    other_cooperative.payout_reference = ""
    other_cooperative.save(update_fields=["payout_reference"])
    tongcao = traced_listing(
        other_cooperative, [(HouseholdFactory(cooperative=other_cooperative), "10")]
    )
    second = deliver(place_order(purchaser_user, store, (tongcao, "10")), staff_user)
    pay(staff_user, delivered_order)
    pay(staff_user, second)
    settlement_run(user=staff_user)
    waiting = Payout.objects.get(statement__cooperative=other_cooperative)
    assert waiting.failure_reason.startswith("The cooperative has no bank details")

    response = staff.post("/api/v1/bank-batches/", {}, format="json")
    assert response.status_code == 201, response.content
    batch = response.json()
    assert [p["cooperative"] for p in batch["payouts"]] == [cooperative.pk]
    rows = staff.get(f"/api/v1/bank-batches/{batch['id']}/csv/").content.decode("utf-8-sig")
    assert len(rows.splitlines()) == 2 and other_cooperative.name_zh not in rows
    shown = staff.get(f"/api/v1/payouts/{waiting.pk}/").json()
    assert (shown["status"], shown["batch"]) == ("pending", None)
    waiting.refresh_from_db()  # the reason, again in the language of the staff who asked
    assert shown["failure_reason"] == waiting.failure_reason != ""

    # Nothing else can go: a 409 that says why, and nothing is written.
    before = snapshot()
    refused = staff.post("/api/v1/bank-batches/", {}, format="json")
    assert_error(refused, 409, "conflict")
    assert refused.json()["error"]["waiting_payouts"] == [waiting.pk]
    assert snapshot() == before

    # Staff add the bank details: the next batch takes it, and the reason goes.
    other_cooperative.payout_reference = "bank:农业银行:****0002"
    other_cooperative.save(update_fields=["payout_reference"])
    later = staff.post("/api/v1/bank-batches/", {}, format="json").json()
    assert [p["cooperative"] for p in later["payouts"]] == [other_cooperative.pk]
    assert later["payouts"][0]["failure_reason"] == ""


def move(client, payout):
    return client.post(f"/api/v1/payouts/{payout.pk}/move-to-bank-batch/")


def test_a_transfer_failed_while_stripe_is_off_is_moved_to_the_bank_batch_by_staff(
    payout, fake_stripe, settings, staff, staff_user
):
    settings.STRIPE_API_KEY = ""  # switched off after settlement chose the rail
    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.unanswered) == ("failed", 0)  # nothing reached Stripe

    response = move(staff, payout)
    assert response.status_code == 200, response.content
    moved = response.json()
    assert (moved["rail"], moved["status"], moved["next_attempt_at"]) == (
        "bank_batch",
        "pending",
        None,
    )
    assert moved["failure_reason"] == ""
    assert Statement.objects.get().status == "pending"
    assert payouts_due() == []

    batch = bank_batch_create(user=staff_user)
    assert list(batch.payouts.values_list("pk", flat=True)) == [payout.pk]
    paid = staff.post(f"/api/v1/bank-batches/{batch.pk}/mark-paid/", {}, format="json")
    assert paid.status_code == 200, paid.content
    assert Statement.objects.get().status == "paid"
    assert balance(account=Account.COOPERATIVE_PAYABLE) == 0
    assert fake_stripe.requests == []  # Stripe was never called


def test_a_refused_transfer_moves_without_asking_stripe(payout, fake_stripe, staff):
    payout = payout_send(payout_id=payout.pk)  # refused: the platform's balance is empty
    assert (payout.refusals, payout.unanswered) == (1, 0)
    assert move(staff, payout).status_code == 200
    assert lookups(fake_stripe) == []


def test_after_a_lost_answer_stripe_is_asked_before_a_move(payout, fake_stripe, staff, settings):
    fake_stripe.top_up(100000)
    fake_stripe.drop_responses(3)  # the transfer is made; the answer lost
    payout = payout_send(payout_id=payout.pk)
    assert (payout.status, payout.unanswered) == ("failed", 1)
    before = snapshot()

    refused = move(staff, payout)
    assert_error(refused, 409, "conflict", "rail")
    assert snapshot() == before and len(lookups(fake_stripe)) == 1

    settings.STRIPE_API_KEY = ""  # Stripe cannot say: no move either
    assert_error(move(staff, payout), 503, "stripe_unavailable")
    assert snapshot() == before


def test_a_lost_answer_with_no_transfer_at_stripe_moves(payout, fake_stripe, staff):
    fake_stripe.fail_requests(3)  # Stripe's 500 before doing anything: no transfer
    payout = payout_send(payout_id=payout.pk)
    assert payout.unanswered == 1
    assert move(staff, payout).json()["rail"] == "bank_batch"
    assert len(lookups(fake_stripe)) == 1 and fake_stripe.objects("transfer") == []


def test_only_a_failed_transfer_moves(payout, fake_stripe, staff, delivered_order):
    before = snapshot()
    assert_error(move(staff, payout), 409, "conflict", "status")  # pending: due to be sent
    fake_stripe.top_up(NET_FEN)
    payout_send(payout_id=payout.pk)
    before = snapshot()
    assert_error(move(staff, payout), 409, "conflict", "status")  # paid
    assert snapshot() == before
    Payout.objects.filter(pk=payout.pk).update(rail="bank_batch", provider_reference="")
    assert_error(move(staff, payout), 409, "conflict", "rail")
    assert_error(staff.post("/api/v1/payouts/999999/move-to-bank-batch/"), 404, "not_found")


@pytest.mark.parametrize("who", ["manager", "other_manager", "buyer", "purchaser"])
def test_only_staff_move_payouts(payout, fake_stripe, request, who):
    payout = payout_send(payout_id=payout.pk)
    before = snapshot()
    assert_error(move(request.getfixturevalue(who), payout), 403, "permission_denied")
    assert snapshot() == before
