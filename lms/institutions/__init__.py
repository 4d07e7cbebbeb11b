"""Training institutions, their classes and the review of applications."""
