"""assist: real-time agent assist for contact centres."""

__version__ = "0.1.0"
