"""Store: chunks, facts, lexical postings and vectors on disk; ingestion into them."""
