"""Events API subscriptions, each with `register(app, rt)`."""
