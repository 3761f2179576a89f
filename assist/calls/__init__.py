"""Calls: the session that wires a call's stages, and (later) the call log."""
