"""Who is calling: local passwords, LDAP binds, browser sessions, personal API tokens and rate limits."""
