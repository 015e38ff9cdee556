"""Vendor Leaflet (the only library the map page uses) into ``src/capacitymap/render/assets/`` for self-contained maps.

Fetches each pinned package from the npm registry with ``npm pack`` (the registry is the only
network this needs), checks the tarball against the pinned sha512 integrity, copies the few files
the maps need plus the package's licence text, and writes ``MANIFEST.json``:

    urls:     CDN URL folium emits -> package@version, path (relative to assets/), sha256, licence
    packages: package@version -> integrity, licence, licence_file, files

Run from the repository root:  python scripts/vendor_assets.py
Re-running gives byte-identical files (nothing time-dependent is written).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "src" / "capacitymap" / "render" / "assets"


@dataclass(frozen=True)
class File:
    source: str  # path inside the npm tarball's package/ folder
    dest: str  # path under assets/<name>-<version>/ (no dist/ or build/: .gitignore drops those)
    urls: tuple[str, ...] = ()  # CDN URLs folium 0.20 / branca 0.8 emit for this file


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    integrity: str  # npm dist.integrity (sha512), pinned: a changed tarball fails the run
    licence: str  # SPDX id from the package's package.json
    licence_source: str  # the licence text inside the tarball
    files: tuple[File, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


PINS: tuple[Pin, ...] = (
    Pin(
        "leaflet", "1.9.3",
        "sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ==",
        "BSD-2-Clause", "LICENSE",
        (
            File("dist/leaflet.js", "leaflet.js", ("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",)),
            File("dist/leaflet.css", "leaflet.css", ("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",)),
            # referenced by url(images/...) in leaflet.css and by L.Icon.Default: inlined as data: URIs
            File("dist/images/layers.png", "images/layers.png"),
            File("dist/images/layers-2x.png", "images/layers-2x.png"),
            File("dist/images/marker-icon.png", "images/marker-icon.png"),
            File("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
            File("dist/images/marker-shadow.png", "images/marker-shadow.png"),
        ),
    ),
)


def _sha512_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _npm_pack(pin: Pin, workdir: Path) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("vendor_assets: expected the npm client on PATH, got none; install Node.js (apt-get install -y npm)")
    proc = subprocess.run(
        [npm, "pack", pin.key, "--json", "--pack-destination", str(workdir)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    if proc.returncode != 0:
        sys.exit(f"vendor_assets: 'npm pack {pin.key}' failed (exit {proc.returncode}):\n{proc.stderr}")
    info = json.loads(proc.stdout)[0]
    data = (workdir / info["filename"]).read_bytes()
    got = _sha512_integrity(data)
    if got != pin.integrity or info.get("integrity") != pin.integrity:
        sys.exit(
            f"vendor_assets: {pin.key}: expected integrity {pin.integrity}, got {got} "
            f"(npm reported {info.get('integrity')}); the registry tarball changed: review before re-pinning"
        )
    return data


def _member(tar: tarfile.TarFile, source: str) -> bytes:
    try:
        member = tar.getmember("package/" + source)
    except KeyError:
        sys.exit(f"vendor_assets: expected file {source!r} in the tarball, got none; fix the pin's path")
    if not member.isfile():
        sys.exit(f"vendor_assets: expected {source!r} to be a regular file in the tarball")
    handle = tar.extractfile(member)
    if handle is None:
        sys.exit(f"vendor_assets: cannot read {source!r} from the tarball")
    return handle.read()


def main() -> int:
    manifest: dict[str, dict] = {"generated_by": "scripts/vendor_assets.py", "urls": {}, "packages": {}}
    if ASSETS.exists():
        shutil.rmtree(ASSETS)
    (ASSETS / "LICENSES").mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINS:
            data = _npm_pack(pin, Path(tmp))
            licence_file = f"LICENSES/{pin.folder}.txt"
            files: dict[str, dict[str, str]] = {}
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                (ASSETS / licence_file).write_bytes(_member(tar, pin.licence_source))
                for f in pin.files:
                    content = _member(tar, f.source)
                    rel = f"{pin.folder}/{f.dest}"
                    out = ASSETS / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(content)
                    sha = hashlib.sha256(content).hexdigest()
                    files[f.source] = {"path": rel, "sha256": sha}
                    for url in f.urls:
                        manifest["urls"][url] = {
                            "package": pin.key,
                            "path": rel,
                            "sha256": sha,
                            "licence": pin.licence,
                            "licence_file": licence_file,
                        }
            manifest["packages"][pin.key] = {
                "integrity": pin.integrity,
                "tarball": f"https://registry.npmjs.org/{pin.name}/-/{pin.name}-{pin.version}.tgz",
                "licence": pin.licence,
                "licence_file": licence_file,
                "files": files,
            }
            print(f"{pin.key}: {len(files)} file(s), integrity ok")
    manifest["urls"] = dict(sorted(manifest["urls"].items()))
    (ASSETS / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    print(f"wrote {ASSETS.relative_to(ROOT)} ({total:,} bytes, {len(manifest['urls'])} URLs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
