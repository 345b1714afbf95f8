"""What the entry points share without importing each other: plain-text rendering, time
parsing, Slack's id formats and API token records. No entry point lives here."""
