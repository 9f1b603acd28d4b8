"""`wom-sim viz`: the Mesa browser page (extra `[viz]`)."""

from __future__ import annotations

import click

from wom_sim.cli.common import cli, resolve_scenario_path, set_option
from wom_sim.scenario.loading import load_scenario


@cli.command()
@click.argument("scenario", metavar="SCENARIO", default="baseline")
@set_option
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, metavar="PORT",
              help="Port to serve on (0: any free port).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address to listen on (anything but 127.0.0.1 exposes the page to the network).")  # fmt: skip
@click.option("--install-assets", is_flag=True,
              help="Fetch solara's JavaScript/CSS with npm into this environment (for machines without "
                   "internet) and exit. `viz` also does this by itself when they are missing.")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the address.")
def viz(scenario: str, overrides: tuple[str, ...], port: int, host: str, install_assets: bool, no_browser: bool):
    """Watch word of mouth spread in the browser: the network, KPI plots, sliders and intervention switches.

    Opens SCENARIO (a YAML file or a bundled scenario name; default baseline) in a Mesa SolaraViz page at
    http://127.0.0.1:8765. The sidebar has Reset / play-pause / Step, sliders for the main levers, a switch per
    bundled intervention and a scenario picker; slider and switch changes take effect on Reset (same seed, so
    the difference is the effect of the change). --set overrides apply to every scenario of the picker, e.g.
    `wom-sim viz baseline --set network.n=100000`: the model runs everyone, the network view draws a sample.

    \b
    Offline (no internet, only the package registries): solara's page loads its front end from a public CDN
    and stays blank without it. `pip install solara-assets` installs those files (no npm needed); else
    `wom-sim viz --install-assets` (needs npm) puts them into this environment once, and `wom-sim viz` runs it
    by itself on first launch.
    """
    try:
        import solara  # noqa: F401 - the viz modules import it lazily; check the extra before anything else

        # lazy: CLI start-up time (this subcommand's imports load only when it runs)
        from wom_sim.viz import assets, server
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise click.ClickException(
            f"the browser page needs the viz extra: pip install 'wom-sim[viz]' ({exc})"
        ) from None
    if install_assets:
        try:
            _install(assets)
        except assets.AssetError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"wom-sim viz: solara's front end is in {assets.cache_root()}", err=True)
        return
    path = resolve_scenario_path(scenario)
    load_scenario(path, list(overrides))  # a broken scenario or override is a one-line error here, not a blank page
    if assets.missing_packages():
        try:
            _install(assets)
        except assets.AssetError as exc:
            click.echo(f"warning: {exc}\nwarning: the page needs internet access to load without them.", err=True)
    code = server.serve(path, tuple(overrides), host=host, port=port, open_browser=not no_browser,
                        echo=lambda line: click.echo(line, err=True))  # fmt: skip
    if code not in (0, None, -2, 130):
        raise click.ClickException(f"the solara server stopped with exit code {code}")


def _install(assets) -> None:
    assets.install_assets(echo=lambda line: click.echo(line, err=True))
