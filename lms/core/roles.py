"""The roles a user account has. Here, not in lms.accounts, so that the shared building blocks
(lms.core) and every feature package can name a role without importing the accounts package."""
LEARNER = "learner"
STAFF = "staff"
REGULATOR = "regulator"
ADMIN = "admin"
ROLES = (LEARNER, STAFF, REGULATOR, ADMIN)
