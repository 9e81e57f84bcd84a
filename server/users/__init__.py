"""People and roles: accounts, their roles, and what each role may do."""
