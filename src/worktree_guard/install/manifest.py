"""The install manifest: what each file guard touched was before guard's first install.

Kept in the repository's shared git dir (`<git-common-dir>/guard-install.json`), one per
repository, because the git hooks folder is shared by every linked worktree; files are
keyed by absolute path, so installs from several worktrees (and scopes) add up in one place.
An entry is written before the file it describes is changed, and a second install never
overwrites an entry's "before": `guard uninstall` restores the state before the FIRST install.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MANIFEST_NAME = "guard-install.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    path: str
    kind: str  # "settings" | "hook" | "exclude"
    existed: bool  # was there before guard's first install
    before_b64: str | None = None  # settings/exclude: the bytes before; hooks are moved instead
    mode: int | None = None  # permission bits before
    after_sha256: str | None = None  # what guard last wrote there
    moved_to: str | None = None  # hook: where the foreign hook now lives (`<name>.pre-guard`)
    # Someone changed the file between two installs: uninstall must never put "before" back
    # over those changes, only take guard's own part out.
    edited: bool | None = None

    @property
    def before(self) -> bytes | None:
        return None if self.before_b64 is None else base64.b64decode(self.before_b64)


@dataclass(frozen=True)
class Manifest:
    files: dict[str, FileEntry] = field(default_factory=dict)
    created_dirs: tuple[str, ...] = ()  # folders guard made (removed on uninstall when empty)
    guard: str | None = None  # the executable the last install pointed at

    def with_entry(self, entry: FileEntry) -> Manifest:
        """Record `entry` (called just before guard writes the file), keeping the "before" of
        an entry already there, and noting when the file changed since guard last wrote it."""
        old = self.files.get(entry.path)
        if old is not None:
            current = _read(entry.path)
            changed = old.after_sha256 is not None and (
                current is None or sha256(current) != old.after_sha256
            )
            entry = replace(
                entry,
                existed=old.existed,
                before_b64=old.before_b64,
                mode=old.mode,
                moved_to=old.moved_to or entry.moved_to,
                edited=True if old.edited or changed else old.edited,  # unchanged: same bytes
            )
        return replace(self, files={**self.files, entry.path: entry})

    def with_dir(self, path: str) -> Manifest:
        if path in self.created_dirs:
            return self
        return replace(self, created_dirs=(*self.created_dirs, path))

    def without(self, path: str) -> Manifest:
        return replace(self, files={k: v for k, v in self.files.items() if k != path})


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def manifest_path(common_dir: str) -> str:
    return os.path.join(common_dir, MANIFEST_NAME)


def to_json(manifest: Manifest) -> str:
    body: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "guard": manifest.guard,
        "created_dirs": list(manifest.created_dirs),
        "files": [asdict(entry) for entry in manifest.files.values()],
    }
    return json.dumps(body, indent=2) + "\n"


def from_json(text: str) -> Manifest:
    """Parse a manifest; anything unreadable is an empty manifest (uninstall then sweeps)."""
    try:
        body = json.loads(text)
        files = {}
        for raw in body.get("files", []):
            entry = FileEntry(**{k: raw.get(k) for k in FileEntry.__dataclass_fields__})
            if isinstance(entry.path, str) and isinstance(entry.kind, str):
                files[entry.path] = entry
        dirs = tuple(d for d in body.get("created_dirs", []) if isinstance(d, str))
        guard = body.get("guard")
        return Manifest(files, dirs, guard if isinstance(guard, str) else None)
    except (ValueError, TypeError, AttributeError):
        return Manifest()


def load(common_dir: str) -> Manifest:
    """The manifest; a missing or unreadable one (not UTF-8, not JSON) is empty."""
    data = _read(manifest_path(common_dir))
    if data is None:
        return Manifest()
    try:
        return from_json(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Manifest()


def save(common_dir: str, manifest: Manifest) -> None:
    path = manifest_path(common_dir)
    if not manifest.files and not manifest.created_dirs:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    write_atomic(path, to_json(manifest).encode("utf-8"), 0o644)


def write_atomic(path: str, data: bytes, mode: int) -> None:
    """Publish `data` at `path` whole (temp + rename); a symlink there is written through."""
    target = os.path.realpath(path)
    tmp = f"{target}.guard-{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
