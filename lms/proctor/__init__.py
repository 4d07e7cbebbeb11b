"""Face enrolment and random face checks (to be built)."""
