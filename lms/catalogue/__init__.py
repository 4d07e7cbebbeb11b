"""Reference data: regions, qualification types, hours rules (editable by the admin)."""
