"""The git state every worktree shares: the stash, refs/replace, symbolic refs.

One judgement for every agent's shell call, made after the line is known to change
something (the line is read by `shell/gitshared.py`; this module reads git's files and the
leases). A command run in B's own tree can still change what A's tree sees:
- the stash is one per repository: `git stash pop` takes the newest entry, whoever made it,
  and `git stash clear` deletes everyone's. An entry belongs to the tree whose branch made
  it (git writes "WIP on <branch>:" or "On <branch>:" into the entry's message): taking,
  applying, dropping or clearing the entries of another live session's held tree is refused;
- `git symbolic-ref HEAD refs/heads/<A's branch>` makes B's next commit, `reset --soft` or
  `update-ref HEAD` move A's branch; so is a line that moves HEAD's branch while HEAD (read
  from B's git dir) already resolves to a branch A's held tree has checked out;
- refs/replace changes which commits every tree's history is made of: written only while no
  other live session holds a tree of the repository.
Read from git's files (the stash reflog, HEAD files), no git process; standard library only.
"""

from __future__ import annotations

from worktree_guard.core.decide import LeaseState, describe_holder, holder_facts
from worktree_guard.core.lease import now_ms
from worktree_guard.core.printable import printable
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import (
    Workspace,
    common_dir,
    find_workspace,
    head_ref,
    trees_on_ref,
)
from worktree_guard.lite import system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Protocol

    from worktree_guard.core.decide import HolderFacts
    from worktree_guard.core.lease import LeaseStore

    class SharedUse(Protocol):
        """One use of shared state, as `shell/gitshared.py` reads it from a line."""

        kind: str
        sub: str
        entry: int | str | None
        ref: str | None

_HEADS = "refs/heads/"
# A use of every stash entry, or of any branch (`shell/gitshared.EVERY` is the same text).
EVERY = "every"
_MAX_STASH_BYTES = 4 << 20  # a reflog this long is read no further (oldest entries last)


class StashEntry:
    """One line of the stash reflog: the entry's commit and the branch that made it."""

    __slots__ = ("branch", "commit")

    def __init__(self, commit: str, branch: str | None) -> None:
        self.commit = commit
        self.branch = branch  # None: made on a detached HEAD, or a message git did not write


def entry_branch(message: str) -> str | None:
    """The branch a stash entry's message names: "WIP on <b>: ..." / "On <b>: ..."; branch
    names cannot hold `:` or spaces, so the first `:` ends it. "(no branch)": None."""
    for prefix in ("WIP on ", "On "):
        if message.startswith(prefix):
            name, colon, _ = message[len(prefix):].partition(":")
            if colon and name and " " not in name and not name.startswith("("):
                return name
    return None


def parse_stash_log(text: str) -> list[StashEntry]:
    """The entries of `logs/refs/stash`, newest first (stash@{0} is the file's last line)."""
    entries: list[StashEntry] = []
    for line in text.split("\n"):
        head, tab, message = line.partition("\t")
        fields = head.split(" ")
        if not tab or len(fields) < 2:
            continue
        entries.append(StashEntry(fields[1], entry_branch(message)))
    entries.reverse()
    return entries


def read_stash(ws: Workspace) -> list[StashEntry]:
    try:
        with open(system.join(common_dir(ws), "logs", "refs", "stash"), "rb") as fh:
            raw = fh.read(_MAX_STASH_BYTES)
    except OSError:
        return []
    return parse_stash_log(raw.decode("utf-8", "surrogateescape"))


def entries_named(entries: list[StashEntry], entry: int | str | None) -> list[int]:
    """The indices of the entries a command names (see shell/gitshared.stash_entry)."""
    if entry == EVERY or entry is None:
        return list(range(len(entries)))
    if isinstance(entry, int):
        return [entry] if entry < len(entries) else []
    return [i for i, e in enumerate(entries) if e.commit.startswith(entry)]


def repository_trees(ws: Workspace) -> list[Workspace]:
    """Every working tree of ws's repository (the main one and each linked one)."""
    common = common_dir(ws)
    trees: list[Workspace] = []
    if system.basename(common) == ".git":
        trees.append(Workspace(system.dirname(common), common))
    folder = system.join(common, "worktrees")
    try:
        names = sorted(system.listdir(folder))
    except OSError:
        names = []
    for name in names:
        try:
            with open(system.join(folder, name, "gitdir"), "rb") as fh:
                dot_git = fh.read(4096).decode("utf-8", "surrogateescape").strip()
        except OSError:
            continue
        tree = find_workspace(system.dirname(dot_git), {}) if dot_git else None
        if tree is not None and tree not in trees:
            trees.append(tree)
    return trees


def resolve_symbolic(ws: Workspace, ref: str | None) -> str | None:
    """The branch a ref ends at when it is itself a symbolic ref (a loose file holding
    `ref: ...`), a few levels deep: HEAD -> refs/heads/alias -> refs/heads/main."""
    for _ in range(5):
        if ref is None or not ref.startswith(_HEADS):
            return ref
        try:
            with open(system.join(common_dir(ws), ref), "rb") as fh:
                text = fh.read(4096).decode("utf-8", "surrogateescape").strip()
        except OSError:
            return ref
        if not text.startswith("ref:"):
            return ref
        ref = text[4:].strip()
    return ref


# ---- texts ---------------------------------------------------------------------------------


def stash_refused(what: str, index: int, branch: str, owner: str, facts: HolderFacts) -> str:
    return (
        f"worktree-guard: `git {printable(what)}` refused: stash@{{{index}}} was made on "
        f"branch {printable(branch)}, which is checked out in {printable(owner)}, held by "
        f"another session: {describe_holder(facts)}. Every worktree of a repository shares "
        "one stash; an entry belongs to the tree whose branch made it. Name your own entry "
        "(`git stash list`, then `git stash pop stash@{N}`), or keep work on a branch of "
        "your own (`git commit` on it) instead of the shared stash."
    )


def symref_refused(ref: str, owner: str, facts: HolderFacts, moving: bool) -> str:
    name = printable(ref[len(_HEADS):] if ref.startswith(_HEADS) else ref)
    what = ("this command would move branch " + name + " through HEAD, which points at it"
            if moving else f"pointing a symbolic ref (HEAD) at branch {name} is refused")
    return (
        f"worktree-guard: {what}: {name} is checked out in {printable(owner)}, which another "
        f"session holds: {describe_holder(facts)}. A branch belongs to the tree that has it "
        "checked out; through a symbolic ref, a commit, `reset` or `update-ref HEAD` in your "
        "own tree would move it. Put HEAD back on a branch of your own "
        "(`git switch <your branch>`)."
    )


def replace_refused(owner: str, facts: HolderFacts) -> str:
    return (
        "worktree-guard: `git replace` refused: refs/replace is one for every worktree of the "
        "repository, so a replacement changes the history another session's tree sees "
        f"({printable(owner)}, held by {describe_holder(facts)}). Ask that session or the "
        "user; `git replace -l` (listing) is allowed."
    )


# ---- the judgement -------------------------------------------------------------------------


class SharedStateJudge:
    """Refuses a line's uses of shared git state that reach another live session's tree."""

    def __init__(self, store: LeaseStore, session: str,
                 log: Callable[..., None]) -> None:
        self.store = store
        self.session = session
        self.log = log
        self.now = now_ms()

    def held_by_other(self, tree: Workspace) -> HolderFacts | None:
        view = self.store.read(tree.key)
        state, alive = self.store.state_and_liveness(view, self.session, self.now)
        if state is not LeaseState.HELD_BY_OTHER:
            return None
        return holder_facts(view, self.now, alive)

    def owner_of(self, here: Workspace, ref: str) -> tuple[Workspace, HolderFacts] | None:
        """Another live session's held tree that has `ref` checked out (not `here`)."""
        for tree in trees_on_ref(here, ref):
            if tree.key == here.key:
                continue
            facts = self.held_by_other(tree)
            if facts is not None:
                return tree, facts
        return None

    def refuse(self, why: str, tree: Workspace, **fields: Any) -> None:
        view = self.store.read(tree.key)
        self.log("denied", session=self.session, key=tree.key, workspace=tree.toplevel,
                 why=why, holder=view.session_id if isinstance(view, LeaseRecord) else None,
                 **fields)

    def judge(self, uses: Sequence[SharedUse], here: Workspace) -> str | None:
        stash: list[StashEntry] | None = None
        for use in uses:
            if use.kind == "stash":
                stash = read_stash(here) if stash is None else stash
                for index in entries_named(stash, use.entry):
                    branch = stash[index].branch
                    found = self.owner_of(here, _HEADS + branch) if branch else None
                    if found is not None and branch is not None:
                        self.refuse("shared stash", found[0], entry=index, branch=branch)
                        return stash_refused(use.sub, index, branch, found[0].toplevel,
                                             found[1])
            elif use.kind in ("symref", "head-move"):
                reason = self.judge_head(use, here)
                if reason is not None:
                    return reason
            elif use.kind == "replace":
                for tree in repository_trees(here):
                    facts = self.held_by_other(tree) if tree.key != here.key else None
                    if facts is not None:
                        self.refuse("shared refs/replace", tree)
                        return replace_refused(tree.toplevel, facts)
        return None

    def judge_head(self, use: SharedUse, here: Workspace) -> str | None:
        if use.kind == "head-move":
            ref = resolve_symbolic(here, head_ref(here))
        elif use.ref == EVERY:
            ref = None  # a target we cannot read: any branch of a held tree may be it
            for tree in repository_trees(here):
                facts = self.held_by_other(tree) if tree.key != here.key else None
                own = head_ref(tree) if facts is not None else None
                if facts is not None and own is not None:
                    self.refuse("symbolic ref", tree, ref=own)
                    return symref_refused(own, tree.toplevel, facts, moving=False)
        else:
            ref = use.ref if use.ref is None or use.ref.startswith("refs/") else _HEADS + use.ref
        found = self.owner_of(here, ref) if ref else None
        if found is None or ref is None:
            return None
        self.refuse("symbolic ref", found[0], ref=ref)
        return symref_refused(ref, found[0].toplevel, found[1], use.kind == "head-move")


def shared_state_reason(uses: Sequence[SharedUse], cwd: str, store: LeaseStore, session: str,
                        log: Callable[..., None]) -> str | None:
    """None, or why a changing line with these uses of shared git state is refused."""
    if not uses:
        return None
    here = find_workspace(cwd)
    if here is None:
        return None
    return SharedStateJudge(store, session, log).judge(uses, here)
