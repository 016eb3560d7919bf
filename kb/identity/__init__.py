"""Identity: accounts, sessions and tokens, access rules, the audit log."""
