"""backend.money: one rounding rule to the fen (halves away from zero) and exact fen for
payment providers."""

from decimal import Decimal

import pytest

from backend.money import round_fen, split, to_fen


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("0.005", "0.01"),
        ("0.025", "0.03"),  # half-even would give 0.02
        ("714.105", "714.11"),  # half-even would give 714.10
        ("0.0049", "0.00"),
        ("688.9049", "688.90"),
        ("-0.005", "-0.01"),  # away from zero, not towards +infinity
        ("12.345", "12.35"),
    ],
)
def test_round_fen_rounds_halves_up(amount, fen):
    assert round_fen(Decimal(amount)) == Decimal(fen)


def test_round_fen_always_answers_two_places():
    assert str(round_fen(Decimal("5"))) == "5.00"
    assert str(round_fen(Decimal("68.1"))) == "68.10"


@pytest.mark.parametrize(
    ("amount", "fen"),
    [("12.34", 1234), ("12.340", 1234), ("0", 0), ("0.01", 1), ("999999.99", 99999999)],
)
def test_to_fen_converts_exact_amounts(amount, fen):
    result = to_fen(Decimal(amount))
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize("amount", ["12.345", "0.001", "0.005", "-1.005"])
def test_to_fen_refuses_fractions_of_a_fen(amount):
    with pytest.raises(ValueError, match="not a whole number of fen"):
        to_fen(Decimal(amount))


@pytest.mark.parametrize(
    ("total", "weights", "quantum", "expected"),
    [
        ("5", ["2", "1"], "0.001", ["3.333", "1.667"]),  # the larger remainder gets the gram
        ("10", ["1", "1", "1"], "0.001", ["3.334", "3.333", "3.333"]),  # ties: the earlier part
        ("100.00", ["1", "1", "1"], "0.01", ["33.34", "33.33", "33.33"]),
        ("0.01", ["1", "3"], "0.01", ["0.00", "0.01"]),
        ("50", ["40", "35", "45"], "0.001", ["16.667", "14.583", "18.750"]),
    ],
)
def test_split_adds_up_exactly_by_the_largest_remainder(total, weights, quantum, expected):
    parts = split(Decimal(total), [Decimal(w) for w in weights], Decimal(quantum))
    assert parts == [Decimal(e) for e in expected]
    assert sum(parts) == Decimal(total)


def test_split_refuses_what_cannot_be_split():
    with pytest.raises(ValueError):
        split(Decimal("1.005"), [Decimal(1)])  # not whole fen
    with pytest.raises(ValueError):
        split(Decimal("1.00"), [Decimal(0)])
