"""Block Kit rendering: pure functions from domain objects to Slack message payloads.

Every function returns a `Message` (`text` for notifications and screen readers, `blocks` for
the layout), so a listener never assembles JSON itself and every layout is testable without
Slack.
"""
