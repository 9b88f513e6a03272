"""``benchanything.json``: the pydantic models, the rules beyond them, loading and messages."""

MANIFEST_NAME = "benchanything.json"  # here, so finding one does not import pydantic
