"""Knowledge: load the knowledge base (corpus), index it (index), match customer words (search)."""
