"""Accounts, roles, sign-in, activation links and password policy."""
