"""`guard uninstall`: undo what `guard install` recorded in the install manifest.

A file guard wrote and nobody changed since gets its exact bytes and mode back; one that
changed since keeps those changes and loses only guard's entries. What the manifest does
not know (a deleted manifest, a hook entry copied by hand) is swept: guard's shims and
guard's entries in this tree's settings.
"""

from __future__ import annotations

import contextlib
import os

from worktree_guard.git.shims import CHAINED_SUFFIX, HOOK_NAMES, KEY_CACHE_NAME, is_guard_shim
from worktree_guard.install import manifest as mf
from worktree_guard.install.agent_hooks import (
    SPECS,
    AgentSpec,
    exclude_lines,
    remove_agent,
    untrust_gemini_folder,
)
from worktree_guard.install.install import (
    EXCLUDE_LINES,
    NEW_FILE_MODE,
    Report,
    file_mode,
    read_bytes,
    shown_path,
)
from worktree_guard.install.managers import manager_of, read_hook_files
from worktree_guard.install.manifest import FileEntry, Manifest, sha256, write_atomic
from worktree_guard.install.settings import (
    SettingsError,
    detect_style,
    find_guard,
    parse_settings,
    remove_guard,
    render_settings,
)
from worktree_guard.install.targets import GuardError, RepoPaths, Scope, locate_repo, settings_path


class Uninstaller:
    def __init__(self, repo: RepoPaths) -> None:
        self.repo = repo
        self.manifest = mf.load(repo.common_dir)
        self.report = Report()

    def run(self, sweep_user: bool) -> Report:
        entries = sorted(self.manifest.files.values(), key=lambda e: e.kind != "hook")
        handled: set[str] = set()
        for entry in entries:
            handled.add(entry.path)
            if entry.kind == "hook":
                self._restore_hook(entry.path, entry.moved_to)
            elif entry.kind == "settings":
                self._restore_settings(entry)
            elif entry.kind == "exclude":
                self._restore_exclude(entry)
            elif entry.kind == "trust:gemini":
                self._restore_gemini_trust(entry)
            elif entry.kind.startswith("agent:") and entry.kind[6:] in SPECS:
                self._restore_agent(entry, SPECS[entry.kind[6:]])
        self._sweep(handled, sweep_user)
        self._remove_key_caches()
        for folder in reversed(self.manifest.created_dirs):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only when empty: anything put there since stays
        mf.save(self.repo.common_dir, Manifest())
        if not self.report.done:
            self.report.done.append("nothing of guard's was installed here")
        return self.report

    def _remove_key_caches(self) -> None:
        """The tree keys the shims kept in each working tree's git dir (see git/shims.py)."""
        common = self.repo.common_dir
        folders = [common]
        with contextlib.suppress(OSError):
            folders += [os.path.join(common, "worktrees", name)
                        for name in os.listdir(os.path.join(common, "worktrees"))]
        for folder in folders:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, KEY_CACHE_NAME))

    def _restore_hook(self, path: str, moved_to: str | None) -> None:
        name = os.path.basename(path)
        current = read_bytes(path) if os.path.isfile(path) else None
        ours = current is not None and is_guard_shim(current.decode("utf-8", "replace"))
        if os.path.lexists(path) and not ours:
            if manager_of(current.decode("utf-8", "replace") if current else None):
                return  # a manager re-wrote this hook: _sweep_renamed finds guard's part
            extra = f"; {name}{CHAINED_SUFFIX} left beside it" if moved_to and os.path.lexists(
                moved_to) else ""  # fmt: skip
            self.report.warn(f"git hook {name}: no longer guard's shim, left as it is{extra}")
            return
        if moved_to and os.path.lexists(moved_to):
            os.replace(moved_to, path)  # a rename: bytes, mode and even the inode come back
            self.report.done.append(f"git hook {name}: your original hook is back")
        elif ours:
            os.unlink(path)
            self.report.done.append(f"git hook {name}: removed")

    def _restore_settings(self, entry: FileEntry) -> None:
        shown = shown_path(entry.path, self.repo)
        current = read_bytes(entry.path)
        before = entry.before
        if current == before:
            return
        if current is None:
            self.report.warn(f"{shown} was removed since install; left removed")
            return
        if sha256(current) == entry.after_sha256 and not entry.edited:
            self._put_back(entry, before, shown)
            return
        # Changed since guard wrote it: take guard's entries out and keep the rest.
        try:
            text = current.decode("utf-8")
            data = parse_settings(text, shown)
        except (UnicodeDecodeError, SettingsError):
            self.report.warn(f"{shown} changed since install and is not valid JSON; left as it is")
            return
        cleaned = remove_guard(data)
        if not cleaned and not entry.existed:
            os.unlink(entry.path)
            self.report.done.append(f"Claude Code settings: removed {shown}")
            return
        write_atomic(entry.path, render_settings(cleaned, detect_style(text)).encode("utf-8"),
                     file_mode(entry.path) or NEW_FILE_MODE)  # fmt: skip
        self.report.done.append(
            f"Claude Code settings: guard's entries taken out of {shown} "
            "(it changed since install, so the rest is kept as it is now)"
        )

    def _put_back(self, entry: FileEntry, before: bytes | None, shown: str) -> None:
        if before is None:
            os.unlink(entry.path)
            self.report.done.append(f"removed {shown}")
        else:
            write_atomic(entry.path, before, entry.mode if entry.mode is not None else 0o644)
            self.report.done.append(f"restored {shown} as it was")

    def _restore_exclude(self, entry: FileEntry) -> None:
        current = read_bytes(entry.path)
        if current is None or current == entry.before:
            return
        if sha256(current) == entry.after_sha256 and not entry.edited:
            self._put_back(entry, entry.before, "info/exclude")
            return
        text = current.decode("utf-8", "surrogateescape")
        ours = [EXCLUDE_LINES, *(exclude_lines(spec) for spec in SPECS.values())]
        if any(lines in text for lines in ours):
            for lines in ours:
                text = text.replace(lines, "", 1)
            cleaned = text.encode("utf-8", "surrogateescape")
            write_atomic(entry.path, cleaned, file_mode(entry.path) or NEW_FILE_MODE)
            self.report.done.append("info/exclude: guard's lines taken out")

    def _restore_gemini_trust(self, entry: FileEntry) -> None:
        current = read_bytes(entry.path)
        if current is None or current == entry.before:
            return
        if sha256(current) == entry.after_sha256 and not entry.edited:
            self._put_back(entry, entry.before, entry.path)
            return
        try:
            text = current.decode("utf-8")
            cleaned = untrust_gemini_folder(parse_settings(text, entry.path), self.repo.toplevel)
        except (UnicodeDecodeError, SettingsError):
            self.report.warn(f"{entry.path} changed since install and is not valid JSON; "
                             "left as it is")
            return
        write_atomic(entry.path, render_settings(cleaned, detect_style(text)).encode("utf-8"),
                     file_mode(entry.path) or 0o600)  # fmt: skip
        self.report.done.append(f"Gemini CLI: this folder taken out of {entry.path}")

    def _restore_agent(self, entry: FileEntry, spec: AgentSpec) -> None:
        shown = shown_path(entry.path, self.repo)
        current = read_bytes(entry.path)
        if current == entry.before:
            return
        if current is None:
            self.report.warn(f"{shown} was removed since install; left removed")
            return
        if sha256(current) == entry.after_sha256 and not entry.edited:
            self._put_back(entry, entry.before, shown)
            return
        try:
            text = current.decode("utf-8")
            cleaned = remove_agent(parse_settings(text, shown), spec)
        except (UnicodeDecodeError, SettingsError):
            self.report.warn(f"{shown} changed since install and is not valid JSON; left as it is")
            return
        if not cleaned and not entry.existed:
            os.unlink(entry.path)
            self.report.done.append(f"{spec.label}: removed {shown}")
            return
        write_atomic(entry.path, render_settings(cleaned, detect_style(text)).encode("utf-8"),
                     file_mode(entry.path) or NEW_FILE_MODE)  # fmt: skip
        self.report.done.append(f"{spec.label}: guard's entries taken out of {shown} (it changed "
                                "since install, so the rest is kept as it is now)")

    def _sweep(self, handled: set[str], sweep_user: bool) -> None:
        """Guard's things the manifest does not know (a lost manifest, an entry copied in)."""
        for name in HOOK_NAMES:
            path = os.path.join(self.repo.hooks_dir, name)
            if path not in handled and os.path.isfile(path):
                text = (read_bytes(path) or b"").decode("utf-8", "replace")
                if is_guard_shim(text):
                    self._restore_hook(path, path + CHAINED_SUFFIX)
        for name in HOOK_NAMES:
            self._sweep_renamed(name)
        scopes = [Scope.LOCAL, Scope.PROJECT] + ([Scope.USER] if sweep_user else [])
        for scope in scopes:
            path = settings_path(scope, self.repo.toplevel)
            if path in handled:
                continue
            self._strip_settings(path)
        user = settings_path(Scope.USER, self.repo.toplevel)
        if not sweep_user and user not in handled and self._has_guard(user):
            self.report.warn(
                f"{shown_path(user, self.repo)} still runs guard for every project "
                "(installed from elsewhere); `guard uninstall --user` takes it out"
            )

    def _sweep_renamed(self, name: str) -> None:
        """Guard's shim under a name a hook manager gave it (`.legacy`, `.old`), and the hook
        it chained: nothing of guard keeps running, and that hook goes where the manager in
        front keeps the hooks it replaced (pre-commit runs it from there again)."""
        path = os.path.join(self.repo.hooks_dir, name)
        files = read_hook_files(self.repo.hooks_dir, name)
        for suffix in files.shim_aliases():
            os.unlink(path + suffix)
            self.report.done.append(f"git hook {name}: guard's shim {name}{suffix} removed")
        chained = path + CHAINED_SUFFIX
        if not os.path.lexists(chained) or is_guard_shim(files.text(files.front) or ""):
            return
        if files.chained_is_copy():
            os.unlink(chained)
            self.report.done.append(f"git hook {name}: {name}{CHAINED_SUFFIX}, a copy of the "
                                    "hook in front, removed")
            return
        manager = manager_of(files.text(files.front))
        if not os.path.lexists(path):
            os.rename(chained, path)
            self.report.done.append(f"git hook {name}: your original hook is back")
        elif manager is not None and not os.path.lexists(path + manager.moves_to):
            os.rename(chained, path + manager.moves_to)
            runs = "which it runs first" if manager.runs_moved else "which it does not run"
            self.report.done.append(f"git hook {name}: your original hook is now "
                                    f"{name}{manager.moves_to}, where {manager.name} keeps it "
                                    f"({runs})")

    def _has_guard(self, path: str) -> bool:
        try:
            data = parse_settings((read_bytes(path) or b"").decode("utf-8"), path)
        except (UnicodeDecodeError, SettingsError, GuardError):
            return False
        return find_guard(data).any

    def _strip_settings(self, path: str) -> None:
        if not self._has_guard(path):
            return
        raw = read_bytes(path) or b""
        text = raw.decode("utf-8")
        cleaned = remove_guard(parse_settings(text, path))
        write_atomic(path, render_settings(cleaned, detect_style(text)).encode("utf-8"),
                     file_mode(path) or NEW_FILE_MODE)  # fmt: skip
        self.report.done.append(f"Claude Code settings: guard's entries taken out of "
                                f"{shown_path(path, self.repo)}")  # fmt: skip


def uninstall(cwd: str, sweep_user: bool = False) -> Report:
    return Uninstaller(locate_repo(cwd)).run(sweep_user)
