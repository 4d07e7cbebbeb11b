"""Video lessons and server-authoritative effective study time (to be built)."""
