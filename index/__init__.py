"""Ingestion: parse documents into sections, tables and facts; store and index them."""
