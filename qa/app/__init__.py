"""App: the engine, CLI and web page that present checked answers."""
