"""Quality assurance from a call's event stream: scorecard, post-call summary and transfer note."""
