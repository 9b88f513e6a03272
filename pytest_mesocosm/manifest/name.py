"""The manifest file's name, in a module of its own: finding one imports no pydantic."""

MANIFEST_NAME = "benchanything.json"
