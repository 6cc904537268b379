"""Read: documents of every layout into sections and tables (one reader per rendering)."""
