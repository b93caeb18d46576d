"""The recipients' union is compiled once per shape of batch and each batch's scopes put in
its parameters: it must answer what compiling the querysets again answers, for any scopes."""

import pytest
from django.db import connection
from django.db.models import F, IntegerField, Value

from notices import catalog, recipients
from partners.models import WebhookEndpoint
from tests.factories import (
    BuyerOrganisationFactory,
    CooperativeFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def rows(sql_and_params) -> list:
    sql, params = sql_and_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall(), key=repr)


def compiled_afresh(scopes) -> list:
    return rows(recipients.union_query(scopes).query.sql_with_params())


@pytest.fixture
def people():
    organisations = [BuyerOrganisationFactory() for _ in range(3)]
    cooperatives = [CooperativeFactory() for _ in range(3)]
    for organisation in organisations:
        MembershipFactory(organisation=organisation)
        MembershipFactory(organisation=organisation, role="approver")
        WebhookEndpoint.objects.create(
            organisation=organisation,
            url="https://erp.example.com/hook",
            secret="s" * 32,
            event_types=["order.placed"],
        )
    for cooperative in cooperatives:
        cooperative.managers.add(UserFactory(role="cooperative_manager"))
    UserFactory(role="staff", is_staff=True)
    return [o.pk for o in organisations], [c.pk for c in cooperatives]


def test_each_batch_s_scopes_answer_as_the_querysets_compiled_afresh(people):
    organisations, cooperatives = people
    batches = [
        {
            catalog.BUYER_MEMBERS: {organisations[0]},
            catalog.COOPERATIVE_MANAGERS: set(cooperatives),
            catalog.PARTNER_SYSTEMS: {organisations[0]},
        },
        # The same shape, other scopes: the statement kept, the scopes put in.
        {
            catalog.BUYER_MEMBERS: {organisations[2]},
            catalog.COOPERATIVE_MANAGERS: {cooperatives[2], cooperatives[0], 999_999},
            catalog.PARTNER_SYSTEMS: {organisations[1]},
        },
        {
            catalog.BUYER_APPROVERS: set(organisations[1:]),
            catalog.STAFF: {0},
            catalog.COOPERATIVE_MANAGERS: {cooperatives[1]},
        },
    ]
    for scopes in batches:
        answered = rows(recipients.union_sql(scopes))
        assert answered == compiled_afresh(scopes)
        assert answered  # somebody in every batch: the comparison says something
    assert rows(recipients.union_sql(batches[1]))[0] != rows(recipients.union_sql(batches[0]))[0]


class Shifted:
    """A resolver whose query does not take its scopes as they are: its statement cannot be
    kept with the scopes put in, so it is compiled for every batch."""

    key_prefix = "webhook:"

    def query(self, scopes):
        return (
            WebhookEndpoint.objects.filter(organisation_id__in={s + 1 for s in scopes})
            .annotate(
                r_scope=F("organisation_id") - Value(1, output_field=IntegerField()),
                r_id=F("pk"),
                r_extra=Value("[]"),
            )
            .order_by()
        )


def test_a_resolver_whose_query_changes_its_scopes_is_compiled_for_every_batch(people):
    organisations, _cooperatives = people
    partners = recipients.register_resolver(catalog.PARTNER_SYSTEMS, Shifted())
    try:
        for organisation in organisations:
            scopes = {catalog.PARTNER_SYSTEMS: {organisation - 1}}
            answered = rows(recipients.union_sql(scopes))
            assert answered == compiled_afresh(scopes)
            assert [row[1] for row in answered] == [organisation - 1]
    finally:
        recipients.register_resolver(catalog.PARTNER_SYSTEMS, partners)
