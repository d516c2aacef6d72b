"""Builds the Go test tools (tools/kvload, tools/lincheck) once per source version, cached under
~/.cache/etsecd/tools, so repeated test runs do not rebuild them. Module versions are pinned by each
tool's go.sum."""
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from harness import REPO

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "etsecd" / "tools"


def tool(name):
    src = REPO / "tools" / name
    digest = hashlib.sha256()
    for f in sorted(src.glob("*")):
        if f.suffix in (".go", ".mod", ".sum"):
            digest.update(f.name.encode() + f.read_bytes())
    out = CACHE / f"{name}-{digest.hexdigest()[:16]}"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        env = dict(os.environ, GOFLAGS="-mod=readonly -trimpath -buildvcs=false", GOTOOLCHAIN="local")
        go = shutil.which("go") or "/usr/local/go/bin/go"
        subprocess.run([go, "build", "-o", str(tmp), "."], cwd=src, check=True, env=env)
        tmp.rename(out)
    return out
