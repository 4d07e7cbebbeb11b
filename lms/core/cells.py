"""Spreadsheet cells that a spreadsheet will not run as formulas (CSV and XLSX exports).

A cell starting with = + - @ (or a tab or carriage return before one) is a formula to Excel and
WPS: exports put an apostrophe before it, and imports of our own files take it off again.
"""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _needs_guard(text: str) -> bool:
    first = text.lstrip("'")[:1]
    return first != "" and first in FORMULA_STARTS


def guard(text: str) -> str:
    """A leading apostrophe before = + - @ (and before apostrophes that precede one, so that unguard
    restores every text exactly)."""
    return "'" + text if _needs_guard(text) else text


def unguard(text: str) -> str:
    """The text exported with a leading apostrophe against formula injection, as it was (see guard)."""
    return text[1:] if text.startswith("'") and _needs_guard(text) else text
