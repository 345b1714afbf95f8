"""Button clicks: one module per kind of action, each with `register(app, rt)`."""
