"""After the call: which customers are drifting away, how valuable they are, and why."""
