"""What git knows that a rule needs: the `guard.*` config, and how pushed commits relate.

Plain `git` subprocesses, not GitPython: the questions are fixed plumbing commands
(`merge-base --is-ancestor`; when needed, `cat-file --batch-check` and `config
--get-regexp`), GitPython would run the same git processes underneath, and importing it
costs more than the whole check.
Only the rare paths come here: pre-push, and a person committing in a held tree.
Hooks run in the repository with git's own environment (GIT_DIR...), which these inherit.
"""

from __future__ import annotations

from worktree_guard.git.rules import (
    Ancestry,
    GitGuardConfig,
    PushKind,
    PushUpdate,
    is_object_name,
    parse_guard_config,
)
from worktree_guard.lite import spawn

_TIMEOUT_S = 60.0


class GitFactsError(Exception):
    """git could not answer."""


class _Done:
    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _git(args: list[str], stdin: bytes | None = None) -> _Done:
    """One git process (lite.spawn: `subprocess` costs more to import than the check)."""
    try:
        return _Done(*spawn.run(["git", *args], stdin or b"", _TIMEOUT_S))
    except spawn.SpawnError as exc:
        raise GitFactsError(f"git {args[0]}: {exc}") from None


def read_guard_config() -> GitGuardConfig:
    """Every `guard.*` key in one git process (exit 1 just means none is set)."""
    done = _git(["config", "-z", "--get-regexp", r"^guard\."])
    if done.returncode not in (0, 1):
        raise GitFactsError(f"git config: {done.stderr.decode('utf-8', 'replace').strip()}")
    entries = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if item:
            key, _, value = item.partition("\n")
            entries.append((key, value))
    return parse_guard_config(entries)


def _peeled(names: list[str]) -> dict[str, str | None]:
    """Each object name -> the object it names here (None when missing), in one git process.
    A `<sha>^{commit}` name peels annotated tags down to their commit."""
    unique = list(dict.fromkeys(names))
    if not unique:
        return {}
    query = "".join(f"{name}\n" for name in unique).encode("ascii", "replace")
    done = _git(["cat-file", "--batch-check=%(objectname)"], stdin=query)
    if done.returncode != 0:
        raise GitFactsError(f"git cat-file: {done.stderr.decode('utf-8', 'replace').strip()}")
    lines = done.stdout.decode("ascii", "replace").splitlines()
    if len(lines) != len(unique):
        raise GitFactsError("git cat-file answered an unexpected number of lines")
    # A found object prints its name; anything else ("<name> missing", "ambiguous") is None.
    pairs = zip(unique, lines, strict=True)
    return {name: (line if " " not in line else None) for name, line in pairs}


def _is_ancestor(older: str, newer: str) -> int:
    """merge-base's exit: 0 yes, 1 no (both name commits, annotated tags peeled), anything
    else when it could not tell (a missing object, a tree, a history cut short...)."""
    return _git(["merge-base", "--is-ancestor", older, newer]).returncode


def ancestry_of(updates: list[PushUpdate]) -> list[Ancestry | None]:
    """For each update of an existing remote ref: is the push a fast-forward? None otherwise.

    One `merge-base` per update answers the common cases, yes or no; only an update it
    cannot answer (the remote's object missing here, an object that is no commit) is looked
    up with `cat-file` (one process for all of them) to tell UNKNOWN_REMOTE from DIVERGED.
    A name that is not an object name (the pre-commit framework's variables may hold any
    text) goes to `cat-file` only, never to `merge-base` as an argument."""
    answers: list[Ancestry | None] = []
    unsure: list[int] = []
    for u in updates:
        if u.kind is not PushKind.UPDATE:
            answers.append(None)
            continue
        said = -1
        if is_object_name(u.remote_sha) and is_object_name(u.local_sha):
            said = _is_ancestor(u.remote_sha, u.local_sha)
        if said == 0:
            answers.append(Ancestry.FAST_FORWARD)
        elif said == 1:
            answers.append(Ancestry.DIVERGED)
        else:
            unsure.append(len(answers))
            answers.append(None)
    if unsure:
        for at, answer in zip(unsure, _looked_up([updates[at] for at in unsure]), strict=True):
            answers[at] = answer
    return answers


def _looked_up(updates: list[PushUpdate]) -> list[Ancestry]:
    """What `merge-base` could not say, asked the long way: is the remote's object here,
    what commit does each side name, and only then is one an ancestor of the other."""
    names = []
    for u in updates:
        names += [u.remote_sha, f"{u.remote_sha}^{{commit}}", f"{u.local_sha}^{{commit}}"]
    found = _peeled(names)
    answers = []
    for u in updates:
        if found[u.remote_sha] is None:
            answers.append(Ancestry.UNKNOWN_REMOTE)
            continue
        old, new = found[f"{u.remote_sha}^{{commit}}"], found[f"{u.local_sha}^{{commit}}"]
        if old is None or new is None:  # not commits (a tag of a tree...): no history to extend
            answers.append(Ancestry.DIVERGED)
        elif old == new or _is_ancestor(old, new) == 0:
            answers.append(Ancestry.FAST_FORWARD)
        else:
            # 1 is "no"; any other failure (a shallow history cut short...) proves nothing either.
            answers.append(Ancestry.DIVERGED)
    return answers
