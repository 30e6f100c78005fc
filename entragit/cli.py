"""Command line: parse, call one library function, render. Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from typing import Any

import click

from entragit.errors import EntragitError


class _Group(click.Group):
    """Turns EntragitError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EntragitError as e:
            click.echo(f"error: {e.message}", err=True)
            if e.hint:
                click.echo(f"hint: {e.hint}", err=True)
            sys.exit(e.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="entragit")
def main() -> None:
    """entragit: git as the source of truth for Microsoft Entra ID configuration.

    \b
    Typical flow:
      entragit init my-tenants && cd my-tenants
      entragit tenant add contoso --tenant-id <GUID> --auth secret --client-id <APPID>
      entragit export --all --commit          # nightly snapshot
      entragit plan --ref HEAD~3              # what would restoring that commit do?
      entragit apply --ref HEAD~3             # do it

    Try it without a tenant: `entragit demo`.
    """


def _register_sim() -> None:
    from entragit.sim.cli import sim

    main.add_command(sim)


_register_sim()
