"""``benchanything.json``: the pydantic models, the rules beyond them, loading and messages."""
