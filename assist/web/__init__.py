"""HTTP + websocket server: ingest endpoints, the agent sidebar, the supervisor page, the API."""
