"""Configuration modules: default, testing, production. Secrets never live here."""
