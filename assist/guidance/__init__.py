"""Guidance: knowledge suggestions, offers for this caller, and supervisor signals."""
