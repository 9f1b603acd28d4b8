"""solara's JavaScript and CSS for machines without internet: `wom-sim viz --install-assets`.

solara's page loads its front end (Vue app, require.js, grid layout, icon font) through its own
`/_solara/cdn/<package>@<version>/...` proxy, which fetches from a public CDN and caches the files in
`<sys.prefix>/share/solara/cdn/` (`solara.server.settings.assets.proxy_cache_dir`). With no internet the server
still answers, but the page stays blank. This module fills that cache from the npm registry with `npm pack`, for
exactly the package versions the installed solara asks for: they are read from solara's own page template and
widget files (and its font-awesome setting), not hard-coded, so a solara upgrade fetches the versions it needs.

The pip package `solara-assets` holds the same folders (it installs them into `<sys.prefix>/share/solara/cdn/`):
a package folder it installed counts as present too, so with it installed no npm is needed. solara-assets
1.58.2 (the newest on PyPI) has all four packages solara 1.64.1 asks for, at the versions it asks for.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path, PurePosixPath

MARKER = ".wom-sim-assets.json"  # written last into a package folder: the folder is complete
SOLARA_ASSETS = "solara-assets"  # the pip package of solara's CDN files
# A file of solara-assets, as its wheel's RECORD lists it (`../../../share/solara/cdn/requirejs@2.3.6/require.js`).
_SHARED_REF = re.compile(r"share/solara/cdn/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.+-]*)/")
NPM_TIMEOUT_S = 300

# `{{cdn}}/@scope/name@1.2.3/` in the page template, `${this.getCdn()}/name@1.2.3/` in widget templates.
_CDN_REF = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.+-]*)/")
_SETTING_REF = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.+-]*)/")


class AssetError(RuntimeError):
    """The assets cannot be installed (no npm, npm failed, or solara's files changed shape)."""


def cache_root() -> Path:
    """The folder solara's CDN proxy serves from (and caches into)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def _vue3() -> bool:
    import ipyvue

    return str(ipyvue.__version__).startswith("3")


def required_packages() -> list[tuple[str, str]]:
    """(npm package, exact version) pairs the installed solara's page loads through its CDN proxy.

    Read from solara's page template (`server/templates/solara.html.j2`: the Vue app and require.js), Mesa's
    grid layout widget (`widgets/vue/gridlayout.vue`) and the font-awesome path setting. The template names one
    Vue app build per Vue major version; solara uses the one that matches the installed ipyvue.
    """
    import solara
    from solara.server import settings

    root = Path(solara.__file__).parent
    vue3 = _vue3()
    files = [root / "server" / "templates" / "solara.html.j2",
             root / "widgets" / "vue" / ("gridlayout_v3.vue" if vue3 else "gridlayout.vue")]  # fmt: skip
    found: set[tuple[str, str]] = set()
    for file in files:
        try:
            found.update(_CDN_REF.findall(file.read_text(encoding="utf-8")))
        except OSError as exc:
            raise AssetError(f"{file}: cannot read solara's template ({exc.strerror})") from None
    if settings.assets.fontawesome_enabled:
        match = _SETTING_REF.match(settings.assets.fontawesome_path)
        if match:
            found.add((match.group(1), match.group(2)))
    other_build = "@widgetti/solara-vuetify-app" if vue3 else "@widgetti/solara-vuetify3-app"
    packages = sorted(p for p in found if p[0] != other_build)
    if not any(name.startswith("@widgetti/solara-vuetify") for name, _ in packages):
        raise AssetError("cannot find the Vue app package in solara's page template (has solara changed?)")
    return packages


def package_dir(name: str, version: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{name}@{version}"


def solara_assets_packages(search_path: list[str] | None = None) -> dict[tuple[str, str], int]:
    """{(package, version): number of files} that the installed solara-assets put into solara's cdn folder.

    `search_path` looks for the distribution in those folders instead of sys.path (for a given environment).
    """
    found_dists = list(metadata.distributions(name=SOLARA_ASSETS, path=search_path)) if search_path else []
    try:
        dist = found_dists[0] if found_dists else metadata.distribution(SOLARA_ASSETS)
    except metadata.PackageNotFoundError:
        return {}
    # RECORD read as text: Python 3.13's `Distribution.files` leaves out entries outside site-packages ("../../share/
    # ..."), which are exactly the ones solara-assets installs.
    record = dist.read_text("RECORD") or ""
    files = [row[0] for row in csv.reader(record.splitlines()) if row]
    found: dict[tuple[str, str], int] = {}
    for file in files:
        match = _SHARED_REF.search(str(file).replace("\\", "/"))
        if match:
            key = (match.group(1), match.group(2))
            found[key] = found.get(key, 0) + 1
    return found


def _complete(name: str, version: str, root: Path | None, from_pip: dict[tuple[str, str], int]) -> bool:
    """Installed by us (the marker is written last) or by solara-assets (all of its files are there)."""
    folder = package_dir(name, version, root)
    if (folder / MARKER).exists():
        return True
    expected = from_pip.get((name, version), 0)
    return expected > 0 and folder.is_dir() and sum(1 for f in folder.rglob("*") if f.is_file()) >= expected


def missing_packages(root: Path | None = None, search_path: list[str] | None = None) -> list[tuple[str, str]]:
    """The required packages not (completely) in the cache, from `--install-assets` or the solara-assets package."""
    from_pip = solara_assets_packages(search_path)
    return [(n, v) for n, v in required_packages() if not _complete(n, v, root, from_pip)]


def install_assets(
    root: Path | None = None, force: bool = False, echo: Callable[[str], None] = print
) -> list[tuple[str, str]]:
    """`npm pack` each missing package and unpack it into the cache; returns the packages installed.

    Raises
    ------
    AssetError
        npm is not on PATH, or `npm pack` failed (e.g. the npm registry is unreachable).
    """
    root = root or cache_root()
    todo = required_packages() if force else missing_packages(root)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm not found: `pip install solara-assets` (it holds these files), or install Node.js and npm "
            "(Debian/Ubuntu: apt-get install npm) and run `wom-sim viz --install-assets`, or copy "
            f"{root} from a machine where that ran"
        )
    root.mkdir(parents=True, exist_ok=True)
    for name, version in todo:
        echo(f"wom-sim viz: fetching {name}@{version} from the npm registry (npm pack)...")
        with tempfile.TemporaryDirectory(prefix="wom-sim-npm-") as tmp:
            tarball = _npm_pack(npm, f"{name}@{version}", Path(tmp))
            _unpack(tarball, package_dir(name, version, root), {"package": name, "version": version})
    return todo


def _npm_pack(npm: str, spec: str, folder: Path) -> Path:
    try:
        done = subprocess.run([npm, "pack", spec, "--silent"], cwd=folder, capture_output=True, text=True,
                              timeout=NPM_TIMEOUT_S, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {spec}: no answer in {NPM_TIMEOUT_S} s (is the npm registry reachable?)") from None
    tarballs = sorted(folder.glob("*.tgz"))
    if done.returncode != 0 or not tarballs:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise AssetError(f"npm pack {spec} failed: {detail[-1] if detail else f'exit code {done.returncode}'}")
    return tarballs[0]


def _unpack(tarball: Path, target: Path, info: dict) -> None:
    """Unpack an npm tarball's `package/` folder into `target`, atomically (a staging folder, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; other users of a shared environment must read it
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts[1:]  # drop the top folder (`package/`)
                if not parts or not (member.isfile() or member.isdir()) or ".." in parts or member.name.startswith("/"):
                    continue
                dest = staging.joinpath(*parts)
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is not None:
                    with source, open(dest, "wb") as out:
                        shutil.copyfileobj(source, out)
        (staging / MARKER).write_text(json.dumps(info), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
