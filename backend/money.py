"""Money is CNY: Decimal with two places in the database, integer fen at Stripe's edge. One
rounding rule for the whole marketplace."""

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
# The largest amount the money columns (12 digits, 2 places) hold.
MAX_AMOUNT = Decimal("9999999999.99")


def round_fen(amount: Decimal) -> Decimal:
    """Round to the fen, halves away from zero (the usual commercial rule in China)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Yuan to integer fen, for payment providers. The amount must already be exact."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(fen)


def split(total: Decimal, weights: Sequence[Decimal], quantum: Decimal = FEN) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` into whole quanta (fen, grams) that add up
    to ``total`` exactly: each part is rounded down, and the quanta left over go one each to
    the parts with the largest remainders (ties: the earlier part). The fixed rule settlement
    and traceability share, so a household's shares always add up."""
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum <= 0:
        raise ValueError("split needs positive weights")
    units = int((total / quantum).to_integral_value(rounding=ROUND_DOWN))
    if units * quantum != total:
        raise ValueError(f"{total} is not a whole number of {quantum}")
    exact = [units * weight / weight_sum for weight in weights]
    parts = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[: units - sum(parts)]:
        parts[i] += 1
    return [part * quantum for part in parts]
