"""The call log: durable storage of every call, redaction, QA."""
