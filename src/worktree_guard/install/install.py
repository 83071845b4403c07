"""`guard install`: Claude Code settings entries and git hook shims.

Every input is read and checked before anything is written, so a settings file that is not
JSON stops the install with nothing changed. Each change is recorded in the install
manifest (see install/manifest.py) before it is made, so install/uninstall.py can undo it
exactly.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field

from worktree_guard.core.printable import printable
from worktree_guard.git.shims import (
    CHAINED_SUFFIX,
    DEFAULT_HOOK_NAMES,
    HOOK_NAMES,
    STRICT_ONLY,
    is_guard_shim,
    shim_text,
)
from worktree_guard.install import manifest as mf
from worktree_guard.install.agent_hooks import (
    SPECS,
    AgentSpec,
    exclude_lines,
    gemini_trust_path,
    merge_agent,
    trust_gemini_folder,
)
from worktree_guard.install.launcher import Launcher, as_launcher
from worktree_guard.install.managers import Settled, settle_managers
from worktree_guard.install.manifest import FileEntry, Manifest, sha256, write_atomic
from worktree_guard.install.settings import (
    SettingsError,
    detect_style,
    merge_guard,
    parse_settings,
    render_settings,
)
from worktree_guard.install.shell_prefix import (
    PREFIX_VARIABLE,
    prefix_file,
    prefix_script,
    sandbox_available,
)
from worktree_guard.install.targets import (
    GuardError,
    RepoPaths,
    Scope,
    locate_repo,
    run_git,
    settings_path,
)

EXCLUDE_PATTERN = "/.claude/settings.local.json"
EXCLUDE_LINES = f"# worktree-guard: this working tree's Claude Code settings\n{EXCLUDE_PATTERN}\n"
_HOOK_MODE = 0o755
NEW_FILE_MODE = 0o644
_MAX_SETTINGS_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class InstallOptions:
    scope: Scope = Scope.LOCAL
    claude: bool = True
    git_hooks: bool = True
    statusline: bool = False
    force: bool = False
    # The agents other than Claude Code whose project hook files get guard's entries.
    agents: tuple[str, ...] = tuple(SPECS)
    trust: bool = False  # do the trust steps the agents' own files allow (Gemini's)
    strict: bool = False  # also prepare-commit-msg, reference-transaction: at a cost

    @property
    def hook_names(self) -> tuple[str, ...]:
        return HOOK_NAMES if self.strict else DEFAULT_HOOK_NAMES


@dataclass
class Report:
    done: list[str] = field(default_factory=list)  # one line per thing changed or checked
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what the person must still do once
    complete: bool = True  # False when something asked for was not done

    def warn(self, text: str, incomplete: bool = False) -> None:
        self.warnings.append(text)
        if incomplete:
            self.complete = False


def read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(_MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise GuardError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise GuardError(f"cannot read {path}: {exc.strerror}") from None


def file_mode(path: str) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def shown_path(path: str, repo: RepoPaths) -> str:
    """A path as the person thinks of it: relative to the tree when inside it."""
    top = repo.toplevel.rstrip(os.sep) + os.sep
    home = os.path.expanduser("~").rstrip(os.sep) + os.sep
    if path.startswith(top):
        return printable(path[len(top) :])
    return printable("~/" + path[len(home) :] if path.startswith(home) else path)


def _inside(path: str, folder: str) -> bool:
    top = os.path.realpath(folder)
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def check_no_symlink_out(path: str, repo: RepoPaths) -> None:
    """A settings file of the tree (local, project scope) that a symlink on its way (a
    committed `.claude` link, say) leads outside the repository: refused, whatever --force
    says, because guard would write a file nobody asked it to touch."""
    real = os.path.realpath(path)
    if _inside(real, repo.toplevel):
        return
    shown = shown_path(path, repo)
    raise GuardError(
        f"not installing: {shown} leads outside this repository through a symlink, to "
        f"{printable(real)}; guard never writes outside the repository through a link.\n"
        "Replace the link with a real folder, or use `guard install --scope user`. "
        "Nothing was changed."
    )


def check_dot_git_entries(cwd: str, repo: RepoPaths) -> None:
    """A `.git` between here and the toplevel that is neither a folder nor a file (a FIFO,
    a device): git passes over it to the repository above, which is probably not the one
    meant. Refused at once, before anything is read from it."""
    folder = os.path.realpath(cwd)
    while _inside(folder, repo.toplevel) and folder != os.path.realpath(repo.toplevel):
        dot_git = os.path.join(folder, ".git")
        try:
            mode = os.stat(dot_git).st_mode
        except OSError:
            mode = None
        if mode is not None and not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            raise GuardError(
                f"not installing: {printable(dot_git)} is neither a folder nor a file, so git "
                f"passes over it and takes {printable(repo.toplevel)} as the repository.\n"
                "Remove it (or run guard install in the repository you mean). "
                "Nothing was changed."
            )
        folder = os.path.dirname(folder)


def submodule_paths(repo: RepoPaths) -> list[str]:
    """The submodules named in .gitmodules: git runs their own hooks, not these."""
    if not os.path.isfile(os.path.join(repo.toplevel, ".gitmodules")):
        return []
    done = run_git(["config", "--file", ".gitmodules", "--get-regexp", r"^submodule\..*\.path$"],
                   repo.toplevel, check=False)  # fmt: skip
    return [line.split(" ", 1)[1] for line in done.stdout.splitlines() if " " in line]


# ---- planning (reads only) -----------------------------------------------------------------


@dataclass(frozen=True)
class SettingsPlan:
    path: str
    before: bytes | None
    after: bytes
    notes: tuple[str, ...]
    prefix: str | None = None  # the shell prefix program the settings name, to be written


def plan_settings(path: str, guard: Launcher | str, statusline: bool,
                  common_dir: str) -> SettingsPlan:
    before = read_bytes(path)
    if before is not None and len(before) > _MAX_SETTINGS_BYTES:
        raise GuardError(f"{path} is larger than {_MAX_SETTINGS_BYTES} bytes; not touching it")
    try:
        text = before.decode("utf-8") if before is not None else ""
    except UnicodeDecodeError:
        raise GuardError(f"{path} is not UTF-8 text; nothing was changed") from None
    prefix = prefix_file(common_dir) if sandbox_available() else None  # install/shell_prefix.py
    try:
        merged = merge_guard(parse_settings(text, path), guard, statusline, prefix=prefix)
    except SettingsError as exc:
        raise GuardError(f"{exc}; nothing was changed") from None
    after = render_settings(merged.settings, detect_style(text)).encode("utf-8")
    if before is not None and parse_settings(text, path) == merged.settings:
        after = before  # already in place: keep the bytes as they are, formatting and all
    env = merged.settings.get("env")
    written = env.get(PREFIX_VARIABLE) if isinstance(env, dict) else None
    return SettingsPlan(path, before, after, merged.notes,
                        prefix if written == prefix else None)


def plan_agent_file(path: str, spec: AgentSpec, guard: Launcher | str) -> SettingsPlan:
    """The agent's project hook file with guard's entries merged in (read only)."""
    before = read_bytes(path)
    if before is not None and len(before) > _MAX_SETTINGS_BYTES:
        raise GuardError(f"{path} is larger than {_MAX_SETTINGS_BYTES} bytes; not touching it")
    try:
        text = before.decode("utf-8") if before is not None else ""
    except UnicodeDecodeError:
        raise GuardError(f"{path} is not UTF-8 text; nothing was changed") from None
    try:
        data = parse_settings(text, path)
        merged = merge_agent(data, spec, guard, path)
    except SettingsError as exc:
        raise GuardError(f"{exc}; nothing was changed") from None
    after = before if before is not None and merged == data else (
        render_settings(merged, detect_style(text)).encode("utf-8"))
    return SettingsPlan(path, before, after, ())


def plan_gemini_trust(toplevel: str) -> SettingsPlan:
    """~/.gemini/trustedFolders.json with this tree trusted (read only)."""
    path = gemini_trust_path(os.path.expanduser("~"))
    before = read_bytes(path)
    text = (before or b"").decode("utf-8", "replace")
    try:
        data = parse_settings(text, path)
        trusted = trust_gemini_folder(data, toplevel)
    except SettingsError as exc:
        raise GuardError(f"{exc}; nothing was changed") from None
    after = before if before is not None and trusted == data else (
        render_settings(trusted, detect_style(text)).encode("utf-8"))
    return SettingsPlan(path, before, after, ())


@dataclass(frozen=True)
class HooksTarget:
    folder: str | None  # None: not installing (the reason is in `blocked`)
    blocked: str | None = None


def _manager_name(repo: RepoPaths) -> str:
    parts = os.path.relpath(repo.hooks_dir, repo.toplevel).split(os.sep)
    if ".husky" in parts:
        return "husky"
    for name in ("lefthook.yml", ".lefthook.yml", "lefthook.yaml", ".lefthook.yaml"):
        if os.path.exists(os.path.join(repo.toplevel, name)):
            return "lefthook"
    return "another hook manager"


# The one line a person adds to another manager's hook scripts (husky's `.husky/pre-commit`,
# a tracked file) to run guard first. It names no path of this machine: it runs the guard
# that GUARD_BIN names or that PATH finds where the hook runs, and where there is none it
# lets the git command through with one notice, as guard's own shims do.
MANAGER_LINE = (
    'g=${GUARD_BIN:-guard}; if command -v "$g" >/dev/null 2>&1; then '
    '"$g" git-hook "${0##*/}" "$@" || exit $?; '
    'else echo "worktree-guard: $g not found; ${0##*/} check skipped" >&2; fi'
)


def manager_line(guard: Launcher | str | None = None) -> str:
    """MANAGER_LINE (`guard` is accepted for callers that pass the installed launcher: the
    line never holds it)."""
    return MANAGER_LINE


def _path_note() -> str:
    """Said with the line when `guard` is not on PATH here: the line would skip the check."""
    import shutil

    if os.environ.get("GUARD_BIN", "").strip() or shutil.which("guard"):
        return ""
    return ("(`guard` is not on PATH in this shell: put it there, or set GUARD_BIN to the "
            "guard command, where the hooks run; without either the line lets git through "
            "with a notice)\n")


def _all_shims(folder: str) -> bool:
    for name in DEFAULT_HOOK_NAMES:
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or not is_guard_shim(
                (read_bytes(path) or b"").decode("utf-8", "replace")):  # fmt: skip
            return False
    return True


def plan_hooks_target(repo: RepoPaths, guard: Launcher | str, force: bool) -> HooksTarget:
    # A folder that already holds guard's shims (an earlier --force) is kept up to date.
    if repo.hooks_dir_is_default or force or _all_shims(repo.hooks_dir):
        return HooksTarget(repo.hooks_dir)
    configured = repo.hooks_path_config or repo.hooks_dir
    if repo.hooks_dir_in_tree:
        manager = _manager_name(repo)
        where = shown_path(repo.hooks_dir, repo)
        return HooksTarget(None, (
            f"git hooks NOT installed: core.hooksPath is {configured!r}, a folder of this "
            f"working tree that {manager} owns; guard does not edit another manager's files.\n"
            f"Add this line at the top of each of {manager}'s hook scripts pre-commit, "
            "pre-push and post-checkout (for the strict checks also prepare-commit-msg and "
            "reference-transaction, which git runs per rebased commit: see "
            "docs/git-hooks.md):\n"
            f"    {manager_line(guard)}\n"
            f"{_path_note()}"
            f"Or run `guard install --force` to put guard's shims into {where}, with the hooks "
            "already there renamed to <name>.pre-guard and chained after them (the manager may "
            "regenerate that folder; a hook that finds its work by its own file name, as "
            "husky's do, then finds nothing).\n"
            "Already added the line? `guard install --no-git-hooks` installs the rest."
        ))  # fmt: skip
    return HooksTarget(None, (
        f"git hooks NOT installed: core.hooksPath is {configured!r}, a folder outside this "
        "repository, probably shared by other repositories.\n"
        f"`guard install --force` puts guard's shims into {repo.hooks_dir}, with the hooks "
        "already there chained after them; they then run for every repository using that "
        "folder (harmless: a tree nobody holds allows everything).\n"
        f"Or add this line at the top of the hook scripts there:\n    {manager_line(guard)}"
    ))  # fmt: skip


def is_tracked(repo: RepoPaths, path: str) -> bool:
    """Whether git tracks `path` in this working tree's index (info/exclude cannot hide it)."""
    rel = os.path.relpath(path, repo.toplevel)
    done = run_git(["--literal-pathspecs", "ls-files", "--error-unmatch", "--", rel],
                   repo.toplevel, check=False)  # fmt: skip
    return done.returncode == 0


def tracked_settings_message(shown: str, guard: Launcher | str, forced: bool) -> str:
    will = "will" if forced else "would"
    anyway = "" if forced else "; `guard install --force` installs into it anyway"
    return (
        f"{shown} is tracked by git, so info/exclude cannot keep it out of commits: guard's "
        f"entries, with the absolute path {as_launcher(guard).shown}, {will} be committed by "
        "the next "
        "`git commit -a` and reach every clone.\n"
        "Use `guard install --scope user` (~/.claude/settings.json, outside the repository), "
        f"or untrack the file (`git rm --cached {shown}`, then commit that) and run "
        f"`guard install` again{anyway}."
    )


def _needs_exclude(repo: RepoPaths, settings_file: str) -> bool:
    rel = os.path.relpath(settings_file, repo.toplevel)
    done = run_git(["check-ignore", "-q", "--no-index", rel], repo.toplevel, check=False)
    return done.returncode == 1  # 0: ignored already; 128: git could not tell, leave it


# ---- applying ------------------------------------------------------------------------------


def write_hook(path: str, data: bytes) -> None:
    """Publish a shim at `path` itself (temp + rename in its folder). Not write_atomic: that
    writes through a symlink, and a hook symlink's target may be a tracked file."""
    tmp = f"{path}.guard-{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _HOOK_MODE)
        os.replace(tmp, path)  # replaces a link at `path` rather than following it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Installer:
    def __init__(self, repo: RepoPaths, guard: Launcher | str) -> None:
        self.repo = repo
        self.launcher = as_launcher(guard)
        self.manifest = mf.load(repo.common_dir)
        self.report = Report()

    def _record(self, entry: FileEntry) -> None:
        self.manifest = self.manifest.with_entry(entry)
        mf.save(self.repo.common_dir, self.manifest)

    def _make_dirs(self, folder: str) -> None:
        """Create `folder` and its missing parents, each recorded for uninstall."""
        missing: list[str] = []
        current = folder
        while not os.path.isdir(current):
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for path in reversed(missing):
            self.manifest = self.manifest.with_dir(path)
            mf.save(self.repo.common_dir, self.manifest)
            os.mkdir(path)

    def apply_prefix(self, path: str) -> None:
        """Write the shell prefix program the settings name (recorded as a shim: uninstall
        removes it while it is still guard's)."""
        data = prefix_script(self.launcher)
        if read_bytes(path) == data and file_mode(path) == _HOOK_MODE:
            return
        self._record(FileEntry(path, "hook", os.path.lexists(path)))
        self._make_dirs(os.path.dirname(path))
        write_hook(path, data)

    def apply_settings(self, plan: SettingsPlan) -> None:
        if plan.prefix is not None:  # before the settings that start it
            self.apply_prefix(plan.prefix)
        shown = shown_path(plan.path, self.repo)
        self.report.warnings.extend(plan.notes)
        if plan.before == plan.after:
            self.report.done.append(f"Claude Code settings: {shown} already runs guard")
            return
        existed = plan.before is not None
        mode = file_mode(plan.path) if existed else None
        self._record(FileEntry(
            plan.path, "settings", existed,
            before_b64=mf.encode(plan.before) if plan.before is not None else None,
            mode=mode, after_sha256=sha256(plan.after),
        ))  # fmt: skip
        self._make_dirs(os.path.dirname(plan.path))
        write_atomic(plan.path, plan.after, mode if mode is not None else NEW_FILE_MODE)
        verb = "updated" if existed else "created"
        self.report.done.append(f"Claude Code settings: {verb} {shown} (guard hook on 6 events)")

    def apply_agent(self, plan: SettingsPlan, spec: AgentSpec) -> None:
        shown = shown_path(plan.path, self.repo)
        self.report.steps.append(f"{spec.label}: {spec.trust_step}")
        if plan.before == plan.after:
            self.report.done.append(f"{spec.label}: {shown} already runs guard")
            return
        existed = plan.before is not None
        mode = file_mode(plan.path) if existed else None
        self._record(FileEntry(
            plan.path, f"agent:{spec.name}", existed,
            before_b64=mf.encode(plan.before) if plan.before is not None else None,
            mode=mode, after_sha256=sha256(plan.after),
        ))  # fmt: skip
        self._make_dirs(os.path.dirname(plan.path))
        write_atomic(plan.path, plan.after, mode if mode is not None else NEW_FILE_MODE)
        verb = "updated" if existed else "created"
        events = ", ".join(event for event, _ in spec.events)
        self.report.done.append(f"{spec.label}: {verb} {shown} (guard hook on {events})")

    def apply_gemini_trust(self, plan: SettingsPlan) -> None:
        if plan.before == plan.after:
            self.report.done.append("Gemini CLI: this folder is already trusted")
            return
        mode = file_mode(plan.path) if plan.before is not None else None
        self._record(FileEntry(
            plan.path, "trust:gemini", plan.before is not None,
            before_b64=mf.encode(plan.before) if plan.before is not None else None,
            mode=mode, after_sha256=sha256(plan.after),
        ))  # fmt: skip
        self._make_dirs(os.path.dirname(plan.path))
        write_atomic(plan.path, plan.after, mode if mode is not None else 0o600)
        self.report.done.append(f"Gemini CLI: trusted {self.repo.toplevel} in {plan.path} "
                                "(--trust; `guard uninstall` takes it back out)")

    def apply_exclude(self, lines: str = EXCLUDE_LINES) -> None:
        path = self.repo.exclude_file
        before = read_bytes(path)
        after = (before or b"") + (b"\n" if before and not before.endswith(b"\n") else b"")
        after += lines.encode("utf-8")
        self._record(FileEntry(
            path, "exclude", before is not None,
            before_b64=mf.encode(before) if before is not None else None,
            mode=file_mode(path), after_sha256=sha256(after),
        ))  # fmt: skip
        self._make_dirs(os.path.dirname(path))
        write_atomic(path, after, file_mode(path) or NEW_FILE_MODE)
        pattern = lines.strip().splitlines()[-1].lstrip("/")
        self.report.done.append(f"git: {shown_path(path, self.repo)} now keeps "
                                f"{printable(pattern)} out of commits")  # fmt: skip

    def apply_tracked_warning(self, plan: SettingsPlan) -> None:
        """--force into a tracked local settings file: say plainly that it gets committed."""
        shown = shown_path(plan.path, self.repo)
        self.report.warn(tracked_settings_message(shown, self.launcher, forced=True))

    def apply_hooks(self, folder: str, names: tuple[str, ...]) -> None:
        self._make_dirs(folder)
        for name in names:
            self.report.done.append(self._install_hook(folder, name))
        for name in sorted(STRICT_ONLY - set(names)):
            line = self._remove_strict_hook(folder, name)
            if line:
                self.report.done.append(line)

    def _remove_strict_hook(self, folder: str, name: str) -> str | None:
        """A default install over a strict one: guard's shim goes (a hook it chained gets its
        name back), so the default install costs what it says."""
        path = os.path.join(folder, name)
        if os.path.islink(path) or not os.path.isfile(path):
            return None
        if not is_guard_shim((read_bytes(path) or b"").decode("utf-8", "replace")):
            return None
        chained = path + CHAINED_SUFFIX
        if os.path.lexists(chained):
            os.replace(chained, path)
            back = f"; the hook it chained is {name} again"
        else:
            os.unlink(path)
            back = ""
        self.manifest = self.manifest.without(path)
        mf.save(self.repo.common_dir, self.manifest)
        return f"git hook {name}: removed (strict install only: `guard install --strict`){back}"

    def _install_hook(self, folder: str, name: str) -> str:
        path = os.path.join(folder, name)
        chained = path + CHAINED_SUFFIX
        shim = shim_text(name, self.launcher.executable, self.launcher.package_dir).encode(
            "utf-8")
        settled = settle_managers(folder, name)
        for gone in settled.removed:
            self.manifest = self.manifest.without(gone)
        mf.save(self.repo.common_dir, self.manifest)
        if settled.behind is not None:
            return self._install_behind(path, settled, shim)
        line = self._install_front(path, chained, shim)
        if not settled.notes:
            return line
        head = f"git hook {name}: "
        return head + "; ".join(settled.notes) + "; so: " + line.removeprefix(head)

    def _install_behind(self, path: str, settled: Settled, shim: bytes) -> str:
        """The manager's hook in front runs the file guard's shim sits in (pre-commit's
        `.legacy`): the shim is kept up to date there, and guard runs once."""
        assert settled.behind is not None
        name = os.path.basename(path)
        alias = path + settled.behind
        chained = path + CHAINED_SUFFIX
        current = read_bytes(alias) if os.path.isfile(alias) else None
        self.manifest = self.manifest.without(path)  # guard's part of this hook is `alias` now
        has_chained = os.path.lexists(chained)
        self._record(FileEntry(alias, "hook", has_chained, moved_to=chained if has_chained
                               else None, after_sha256=sha256(shim)))  # fmt: skip
        if current == shim and os.access(alias, os.X_OK):
            verb = "already installed"
        else:
            write_hook(alias, shim)
            verb = "installed" if current is None else "updated"
        notes = "".join(f"; {note}" for note in settled.notes)
        return (f"git hook {name}: {verb} as {name}{settled.behind}, which "
                f"{settled.manager}'s hook in front runs first{notes}")

    def _install_front(self, path: str, chained: str, shim: bytes) -> str:
        name = os.path.basename(path)
        has_chained = os.path.lexists(chained)
        if os.path.isdir(path):
            self.report.warn(f"git hook {name}: {path} is a folder; skipped", incomplete=True)
            return f"git hook {name}: skipped"
        # A symlink is always somebody else's hook (guard writes regular files), and its
        # target may be a tracked file: it is moved aside as a link, never written through.
        link = os.readlink(path) if os.path.islink(path) else None
        current = read_bytes(path) if link is None and os.path.isfile(path) else None
        if current is not None and is_guard_shim(current.decode("utf-8", "replace")):
            entry = FileEntry(path, "hook", has_chained, moved_to=chained if has_chained else None,
                              after_sha256=sha256(shim))  # fmt: skip
            self._record(entry)
            if current == shim and os.access(path, os.X_OK):
                return f"git hook {name}: already installed"
            write_hook(path, shim)
            return f"git hook {name}: updated"
        if os.path.lexists(path):  # a foreign hook (or a dangling symlink): chain it
            if has_chained:
                self.report.warn(
                    f"git hook {name}: both {name} and {name}{CHAINED_SUFFIX} exist and neither "
                    "is guard's; skipped (move one of them away and re-run)",
                    incomplete=True,
                )
                return f"git hook {name}: skipped"
            self._record(FileEntry(path, "hook", True, moved_to=chained, after_sha256=sha256(shim)))
            os.rename(path, chained)  # renames a symlink itself, not what it points at
            write_hook(path, shim)
            runs = "still runs after guard" if os.access(chained, os.X_OK) else (
                "kept, but it is not executable, so git did not run it and neither will guard")
            kept = f"{name}{CHAINED_SUFFIX}"
            what = "the existing hook" if link is None else f"the existing symlink (-> {link})"
            return f"git hook {name}: installed; {what} is now {kept}, {runs}"
        self._record(FileEntry(path, "hook", False, after_sha256=sha256(shim)))
        write_hook(path, shim)
        return f"git hook {name}: installed"


def install(cwd: str, options: InstallOptions, guard: Launcher | str) -> Report:
    """`guard` is the launcher the hooks will start (or a guard command's path)."""
    launcher = as_launcher(guard)
    repo = locate_repo(cwd)
    check_dot_git_entries(cwd, repo)
    # Read and check everything first: a bad settings file must leave nothing changed.
    plan = None
    exclude = tracked = False
    if options.claude:
        path = settings_path(options.scope, repo.toplevel)
        if options.scope is not Scope.USER:
            check_no_symlink_out(path, repo)
        # The local file is meant to stay out of git; a tracked one would carry guard's
        # absolute path into the next `git commit -a`, so that takes --force.
        tracked = options.scope is Scope.LOCAL and is_tracked(repo, path)
        if tracked and not options.force:
            shown = shown_path(path, repo)
            raise GuardError("not installing: " + tracked_settings_message(
                shown, launcher, forced=False) + "\nNothing was changed.")  # fmt: skip
        plan = plan_settings(path, launcher, options.statusline, repo.common_dir)
        exclude = options.scope is Scope.LOCAL and not tracked and _needs_exclude(repo, path)
    agent_plans: list[tuple[AgentSpec, SettingsPlan, bool, bool]] = []
    for name in options.agents:
        spec = SPECS[name]
        path = os.path.join(repo.toplevel, spec.rel_path)
        # The file holds this machine's path to guard: it must not reach a commit unasked.
        agent_tracked = is_tracked(repo, path)
        if agent_tracked and not options.force:
            shown = shown_path(path, repo)
            raise GuardError(
                f"not installing: {shown} is tracked by git; guard's entries hold the absolute "
                f"path {launcher.shown} and would be committed. Untrack it, leave {spec.name} out "
                "(`--agents`), or use --force to install into it anyway.\nNothing was changed.")
        agent_plans.append((spec, plan_agent_file(path, spec, launcher), agent_tracked,
                            not agent_tracked and _needs_exclude(repo, path)))
    trust_plan = None
    if options.trust and "gemini" in options.agents:
        trust_plan = plan_gemini_trust(repo.toplevel)
    target = plan_hooks_target(repo, launcher, options.force) if options.git_hooks else None

    installer = Installer(repo, launcher)
    installer.manifest = Manifest(installer.manifest.files, installer.manifest.created_dirs,
                                  launcher.command())  # fmt: skip
    if plan is not None:
        installer.apply_settings(plan)
        if exclude:
            installer.apply_exclude()
        if tracked:
            installer.apply_tracked_warning(plan)
    for spec, agent_plan, agent_tracked, agent_exclude in agent_plans:
        installer.apply_agent(agent_plan, spec)
        if spec.name == "gemini" and trust_plan is not None:
            installer.apply_gemini_trust(trust_plan)
            installer.report.steps.remove(f"{spec.label}: {spec.trust_step}")
        if agent_exclude:
            installer.apply_exclude(exclude_lines(spec))
        if agent_tracked:
            installer.report.warn(f"{shown_path(agent_plan.path, repo)} is tracked by git: "
                                  "guard's entries, with this machine's path to guard, will be "
                                  "committed by the next `git commit -a`.")
    if target is not None:
        if target.folder is not None:
            installer.apply_hooks(target.folder, options.hook_names)
        else:
            assert target.blocked is not None
            installer.report.warn(target.blocked, incomplete=True)
    mf.save(repo.common_dir, installer.manifest)
    submodules = submodule_paths(repo) if options.git_hooks else []
    if submodules:
        shown = ", ".join(printable(path) for path in submodules)
        installer.report.warn(
            f"submodules ({shown}) are not guarded by these git hooks: git runs a submodule's "
            "own hooks. Run `guard install` inside each submodule that agents work in."
        )
    return installer.report
