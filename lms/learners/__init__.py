"""Learner registration, profile and materials."""
