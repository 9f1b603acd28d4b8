"""Start the page: solara's server in a child process on 127.0.0.1, with telemetry off and the assets in place."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

READY_TIMEOUT_S = 120.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def server_env(scenario: Path, overrides: tuple[str, ...] = (), extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: the scenario to open, the overrides, and no telemetry."""
    env = {**os.environ, **(extra or {})}
    env.update({
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "WOM_SIM_VIZ_SCENARIO": str(scenario),
        "WOM_SIM_VIZ_OVERRIDES": json.dumps(list(overrides)),
        "WOM_SIM_VIZ_PREWARM": "1",
    })  # fmt: skip
    return env


# solara warns on every page load that its session cookie cannot be SameSite=None over plain http; on
# 127.0.0.1 that is expected and harmless, and it would fill the terminal.
QUIET = "ignore:Cookies with samesite=none require https:UserWarning"


def server_command(host: str, port: int) -> list[str]:
    """`solara run` of the page in production mode (no reloader, minified front end, no solara.dev check)."""
    return [sys.executable, "-W", QUIET, "-m", "solara", "run", "wom_sim.viz.app", "--host", host,
            "--port", str(port), "--production", "--no-open", "--log-level", "warning"]  # fmt: skip


def start_server(
    scenario: Path, overrides: tuple[str, ...], host: str, port: int, env: dict[str, str] | None = None, **popen
) -> subprocess.Popen:
    """Start the server process (returns at once; see `wait_ready`); `env` adds environment variables."""
    return subprocess.Popen(server_command(host, port), env=server_env(scenario, overrides, env), **popen)


def wait_ready(proc: subprocess.Popen, url: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Block until the server answers `url` (it is up; the page itself renders in the browser later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the solara server exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the solara server did not answer {url} within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Ask the server to stop (SIGTERM: uvicorn shuts down cleanly), then kill it if it does not."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def serve(
    scenario: Path,
    overrides: tuple[str, ...] = (),
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
) -> int:
    """Run the page until Ctrl-C; returns the server's exit code."""
    port = port or free_port(host)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    # SIGTERM (or a closed terminal) must stop the server too, not leave it running without its parent.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    proc = start_server(scenario, overrides, host, port)
    try:
        wait_ready(proc, url)
        echo(f"wom-sim viz: {scenario.name} at {url}  (Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_server(proc)


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
