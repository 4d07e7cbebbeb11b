"""Append-only operation log."""
