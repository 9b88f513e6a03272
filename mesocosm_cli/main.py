"""The ``mesocosm`` root command."""

from __future__ import annotations

import click

from pytest_mesocosm import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mesocosm",
                      message="%(prog)s %(version)s")
def cli() -> None:
    """Benchmark LLM-agent environments locally and on a bench platform."""
