"""Per-course quizzes (to be built)."""
