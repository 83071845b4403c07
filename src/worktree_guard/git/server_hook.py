"""`guard git-hook update REF OLD NEW` in a bare repository: the remote's own check.

Installed by `guard server-hook install` into a repository the user serves (git daemon,
http-backend, ssh): it holds the pushes no client-side hook sees (a clone without guard, a
`--no-verify` push, an agent whose shell runs git without hooks):
- a branch whose lease (refs/guard/leases/<branch>) is live moves only to the commit its
  holder announced in the lease (`tip`, written by the holder's pre-push just before);
- a lease ref is written only by its holder, or over a lease that is no longer live;
- a protected branch (guard.protectedBranches of this repository's config) is never
  deleted or rewritten (a non-fast-forward).
Session names are labels, not credentials: this stops mistakes and races, not a client that
forges a lease in another session's name.
"""

from __future__ import annotations

from worktree_guard.core.printable import printable
from worktree_guard.core.remote_decide import (
    HEADS,
    LEASES,
    ZERO,
    lease_ref,
    server_allows_branch,
    server_allows_lease,
    server_refused_text,
)
from worktree_guard.core.remote_lease import Git, lease_of_object, now_s, read_lease
from worktree_guard.git.rules import is_zero, protected_branch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

REFUSE = 1


def update(args: list[str], log: Callable[..., None], say: Callable[[str], None]) -> int:
    if len(args) != 3:
        say("worktree-guard (server): the update hook takes REF OLD NEW; nothing checked")
        return 0
    ref, old, new = args
    git = Git()
    now = now_s()
    if ref.startswith(LEASES):
        return _lease_update(git, ref, new, now, log, say)
    if not ref.startswith(HEADS):
        return 0
    branch = ref[len(HEADS):]
    lease = read_lease(git, lease_ref(branch))
    if not server_allows_branch(lease, ZERO if is_zero(new) else new, now):
        assert lease is not None
        say(server_refused_text(branch, lease, now))
        log("remote_denied", side="server", ref=ref, holder=lease.session,
            holder_host=lease.host, pushed=new)
        return REFUSE
    from worktree_guard.git.facts import read_guard_config

    if protected_branch(ref, read_guard_config().protected) is None:
        return 0
    if is_zero(new):
        return _refuse(f"{branch} is a protected branch: it is not deleted here", ref, log, say)
    if not is_zero(old) and git.run(["merge-base", "--is-ancestor", old, new])[0] != 0:
        return _refuse(f"{branch} is a protected branch: this push is not a fast-forward "
                       "of it (it would drop commits)", ref, log, say)
    return 0


def _lease_update(git: Git, ref: str, new: str, now: int, log: Callable[..., None],
                  say: Callable[[str], None]) -> int:  # fmt: skip
    if is_zero(new):
        return 0  # a release; a lease left behind is freed by its ttl anyway
    old = read_lease(git, ref)
    lease = lease_of_object(git, new)
    if lease is None or lease.branch != ref[len(LEASES):]:
        return _refuse(f"{printable(ref)} must point at a lease commit of that branch",
                       ref, log, say)
    if server_allows_lease(old, lease, now):
        return 0
    assert old is not None
    say(server_refused_text(old.branch or ref[len(LEASES):], old, now))
    log("remote_denied", side="server", ref=ref, holder=old.session, holder_host=old.host,
        taker=lease.session)
    return REFUSE


def _refuse(text: str, ref: str, log: Callable[..., None], say: Callable[[str], None]) -> int:
    say(f"worktree-guard (server): {text}")
    log("remote_denied", side="server", ref=ref, why=text)
    return REFUSE
