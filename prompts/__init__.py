"""Prompt and answer templates (plain text files loaded with importlib.resources)."""
