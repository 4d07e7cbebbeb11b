"""Study hours and verifiable certificates (to be built)."""
