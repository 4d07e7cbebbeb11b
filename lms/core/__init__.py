"""Shared building blocks: encryption, clock, ID documents, uploads, regions."""
