"""Live calls and who watches them: the in-process hub, and the bus that spreads it over a fleet."""
