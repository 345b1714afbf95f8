"""The outside world: CLI, Slack app, HTTP API, scheduler, settings, evaluator adapters."""
