"""How figures are written for people: money with separators, rates as percentages."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WAN_PER_YI = Decimal("10000")


def to_yi(amount_wan: Decimal | None) -> Decimal | None:
    """万元 → 亿元 with two decimals, as dashboards show money."""
    if amount_wan is None:
        return None
    return (Decimal(amount_wan) / WAN_PER_YI).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal | None) -> str:
    """万元 with thousands separators and two decimals; an em dash when unknown."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def percent(rate: Decimal | None) -> str:
    """A fraction (0.3110) as a percentage with two decimals (31.10%)."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).quantize(CENT, rounding=ROUND_HALF_UP):.2f}%"


def points(value: Decimal | None) -> str:
    """A gap in percentage points with its sign (+6.10 / −3.25)."""
    if value is None:
        return "—"
    value = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"+{value:.2f}" if value > 0 else f"−{-value:.2f}" if value < 0 else "0.00"
