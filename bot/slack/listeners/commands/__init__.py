"""Slash commands: one module per command, each with COMMAND and `register(app, rt)`."""
