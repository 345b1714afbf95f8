"""The domain and the play engine: pure Python, no Slack, SQL or HTTP imports."""
