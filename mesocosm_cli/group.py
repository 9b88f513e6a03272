"""Click groups that behave like the hosted CLI's: listed order, a command tree, help on bare use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from mesocosm_cli.exit_codes import as_cli_error
from pytest_mesocosm.errors import MesocosmError


class MesocosmGroup(click.Group):
    """A group that lists commands in the order they were added, nested groups as a tree,
    and prints its help (exit 0) when called without a subcommand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def _walk(
        self, ctx: click.Context, depth: int = 0
    ) -> Iterator[tuple[int, str, click.Command]]:
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            yield depth, name, cmd
            if isinstance(cmd, MesocosmGroup):
                yield from cmd._walk(ctx, depth + 1)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        entries = [("  " * depth + name, cmd) for depth, name, cmd in self._walk(ctx)]
        if not entries:
            return
        width = max(len(label) for label, _ in entries)
        limit = max(formatter.width - 6 - width, 30)
        rows = [(label, cmd.get_short_help_str(limit)) for label, cmd in entries]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class RootGroup(MesocosmGroup):
    """The root: the one place where engine errors become a one-line message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MesocosmError as exc:
            raise as_cli_error(exc) from exc

