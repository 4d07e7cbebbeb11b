"""Practice: sequential practice, mock exams, the wrong-question book, favourites and search.
``rules`` holds the rules, ``views`` the learner's pages (registered on the quiz blueprint)."""
