"""Amounts of money and durations as the pages show them."""

from __future__ import annotations

import math

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}


def format_money(amount: float | None, currency: str = "USD") -> str:
    """`$6.00`, `$0.600`, `$0.000412`, `12.50 CHF`: below 1, three significant digits."""
    if amount is None or not math.isfinite(amount):
        return "–"
    if amount == 0:
        text = "0"
    elif abs(amount) >= 1:
        text = f"{amount:,.2f}"
    else:
        digits = 2 - math.floor(math.log10(abs(amount)))
        text = f"{amount:.{digits}f}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def format_seconds(ms: float | None) -> str:
    """`0.42 s`, `12.3 s` from milliseconds."""
    if ms is None or not math.isfinite(ms):
        return "–"
    s = ms / 1000
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
