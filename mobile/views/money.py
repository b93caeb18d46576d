"""Money: the cooperative's settlement statements, newest first; one statement with its
settled parts and its household split; one household's earnings by month. The figures are
payments' own (its selectors, under payments.access as the API's views); nothing is
recomputed here."""

from django.core.paginator import Paginator

from payments import selectors as payments_selectors

from .. import selectors
from ..pages import manager_page, not_found, render_page

STATEMENTS_PER_PAGE = 20


@manager_page
def statements(request):
    page = Paginator(selectors.statements(user=request.user), STATEMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render_page(request, "mobile/money.html", {"page": page})


@manager_page
def statement(request, statement_id: int):
    found = selectors.statement(user=request.user, statement_id=statement_id)
    if found is None:  # another cooperative's, or none: the same answer
        return not_found(request)
    shares = list(payments_selectors.statement_shares(statement=found))
    context = {
        "statement": found,
        "lines": payments_selectors.statement_lines(statement=found),
        "shares": shares,
        "poverty_list_subtotal": payments_selectors.poverty_list_subtotal(shares),
    }
    return render_page(request, "mobile/statement.html", context)


@manager_page
def household(request, household_id: int):
    found = selectors.household(user=request.user, household_id=household_id)
    if found is None:
        return not_found(request)
    context = {
        "household": found,
        "months": selectors.household_months(user=request.user, household=found),
    }
    return render_page(request, "mobile/household.html", context)
