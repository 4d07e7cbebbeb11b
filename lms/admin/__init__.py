"""Platform administration: institutions and hours rules."""
