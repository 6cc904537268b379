"""Extract: tables and narrative into facts with their identities."""
