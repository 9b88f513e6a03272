"""pytest-mesocosm: benchmark LLM-agent environments with pytest, a CLI and a bench server."""

from pytest_mesocosm.__about__ import __version__

__all__ = ["__version__"]
