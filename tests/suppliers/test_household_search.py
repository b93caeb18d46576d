"""Finding households: ``?search=`` on the API and the phone page's search are one selector
(suppliers.selectors.household_search): Chinese or pinyin, full or initials, a village's
too, and only among the households the user may see."""

import pytest

from suppliers import selectors
from suppliers.models import Household
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


@pytest.fixture
def members(cooperative, other_cooperative):
    HouseholdFactory(cooperative=cooperative, name="张三", village="石屯村")
    HouseholdFactory(
        cooperative=cooperative,
        name="李四",
        village="纳夜村",
        on_poverty_list=True,
        poverty_registration_no="QN520000123",
    )
    HouseholdFactory(cooperative=other_cooperative, name="张三丰", village="石屯村")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("zhangsan", ["张三"]),
        ("zs", ["张三"]),
        ("Zhang", ["张三"]),
        ("张", ["张三"]),
        ("nayecun", ["李四"]),
        ("nyc", ["李四"]),
        ("qn5200", ["李四"]),  # the registration number, as before
        ("zhang shitun", ["张三"]),  # each word somewhere
        ("zhang naye", []),
    ],
)
def test_a_manager_finds_their_households_in_chinese_or_pinyin(manager, members, term, found):
    assert names(manager.get(HOUSEHOLDS, {"search": term})) == found


def test_staff_find_every_cooperatives(staff, members):
    assert names(staff.get(HOUSEHOLDS, {"search": "zs"})) == ["张三", "张三丰"]


def test_search_keeps_the_other_filters_and_the_order(manager, members, cooperative):
    HouseholdFactory(cooperative=cooperative, name="张五", village="纳夜村")
    response = manager.get(HOUSEHOLDS, {"search": "zhang", "village": "纳夜村"})
    assert names(response) == ["张五"]
    response = manager.get(HOUSEHOLDS, {"search": "zhang", "ordering": "-name"})
    assert [row["name"] for row in response.json()["results"]] == ["张五", "张三"]


def test_the_selector_narrows_any_queryset(members, cooperative):
    own = Household.objects.filter(cooperative=cooperative)
    assert [h.name for h in selectors.household_search(queryset=own, text="zs")] == ["张三"]
    assert selectors.household_search(queryset=own, text="  ").count() == 2
