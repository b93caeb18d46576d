"""Money is CNY: Decimal with two places in the database, integer fen at Stripe's edge. One
rounding rule for the whole marketplace."""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def round_fen(amount: Decimal) -> Decimal:
    """Round to the fen, halves away from zero (the usual commercial rule in China)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Yuan to integer fen, for payment providers. The amount must already be exact."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(fen)
