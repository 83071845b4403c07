"""A branch's lease on the git remote: the record, its state, and what guard says. No I/O.

The record is a commit that `refs/guard/leases/<branch>` points at on the remote. Its
committer date is the stamp (the last acquire or renewal); its message holds who leases the
branch and for how long. core/remote_lease.py reads and writes it; this module only turns
what was read into a state and a message, so every rule is tested on plain data.
"""

from __future__ import annotations

from worktree_guard.core.decide import format_idle
from worktree_guard.core.printable import printable
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

LEASES = "refs/guard/leases/"
HEADS = "refs/heads/"
# The tree of every lease commit: git knows the empty tree without it being stored.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO = "0" * 40
TITLE = "worktree-guard branch lease"
# A holder that stops renewing (a machine that went away) frees the branch after this long.
# Renewal happens on the holder's pushes only (git has no post-fetch hook), so a session
# that works longer than this without pushing finds the lease free or taken at its next push.
DEFAULT_TTL_S = 60 * 60  # git config guard.remoteLeaseTtl (seconds) changes it
MAX_TTL_S = 24 * 60 * 60  # whatever a lease says: a machine gone frees its branches in a day
_MAX_FIELD = 512


class RemoteState(Kind):
    __slots__ = ()
    FREE: ClassVar[RemoteState]  # no lease ref
    MINE: ClassVar[RemoteState]  # this session on this machine
    EXPIRED: ClassVar[RemoteState]  # stamp older than its ttl, or too far in the future
    HELD: ClassVar[RemoteState]  # another session (or machine) within its ttl


RemoteState.FREE = RemoteState("free")
RemoteState.MINE = RemoteState("mine")
RemoteState.EXPIRED = RemoteState("expired")
RemoteState.HELD = RemoteState("held")


class RemoteLease:
    """One lease as read from a lease commit (fields the message lacks are empty)."""

    __slots__ = ("agent", "branch", "host", "session", "sha", "since_s", "stamp_s", "tip",
                 "ttl_s")

    def __init__(self, sha: str, branch: str, session: str, host: str, agent: str,
                 stamp_s: int, since_s: int, ttl_s: int, tip: str) -> None:  # fmt: skip
        self.sha, self.branch, self.session, self.host = sha, branch, session, host
        self.agent, self.stamp_s, self.since_s, self.ttl_s, self.tip = (
            agent, stamp_s, since_s, ttl_s, tip)

    def owned_by(self, session: str, host: str) -> bool:
        return bool(self.session) and self.session == session and self.host == host


def lease_ref(branch: str) -> str:
    return LEASES + branch


def lease_message(branch: str, session: str, host: str, agent: str, since_s: int, ttl_s: int,
                  tip: str) -> str:  # fmt: skip
    fields = [("branch", branch), ("session", session), ("host", host), ("agent", agent),
              ("since", str(since_s)), ("ttl", str(ttl_s)), ("tip", tip)]
    body = "".join(f"{k}: {_one_line(v)}\n" for k, v in fields)
    return f"{TITLE}\n\n{body}"


def commit_text(message: str, stamp_s: int, parent: str | None) -> str:
    """The lease commit as `git hash-object -t commit` takes it: the stamp is its date."""
    who = f"worktree-guard <guard@localhost> {stamp_s} +0000"
    parent_line = f"parent {parent}\n" if parent else ""
    return f"tree {EMPTY_TREE}\n{parent_line}author {who}\ncommitter {who}\n\n{message}"


def parse_lease(sha: str, stamp_s: int, message: str) -> RemoteLease:
    """Whatever the commit says; a message that is not a lease's gives a lease of nobody
    (empty session), which is HELD until its stamp is a default ttl old: an unreadable lease
    never lets anyone in early, and never blocks forever."""
    fields: dict[str, str] = {}
    lines = message.splitlines()
    if lines[:1] == [TITLE]:
        for line in lines[1:]:
            key, sep, value = line.partition(": ")
            if sep and key not in fields:
                fields[key] = value[:_MAX_FIELD]
    ttl = _int(fields.get("ttl"), DEFAULT_TTL_S)
    return RemoteLease(sha, fields.get("branch", ""), fields.get("session", ""),
                       fields.get("host", ""), fields.get("agent", ""), stamp_s,
                       _int(fields.get("since"), stamp_s),
                       min(ttl, MAX_TTL_S) if ttl > 0 else DEFAULT_TTL_S,
                       fields.get("tip", ""))


def state_of(lease: RemoteLease | None, session: str, host: str, now_s: int) -> RemoteState:
    if lease is None:
        return RemoteState.FREE
    if lease.owned_by(session, host):
        return RemoteState.MINE
    age = now_s - lease.stamp_s
    if age >= lease.ttl_s or -age > lease.ttl_s:  # stopped renewing, or a clock far off
        return RemoteState.EXPIRED
    return RemoteState.HELD


def live(lease: RemoteLease | None, now_s: int) -> bool:
    """Leased by anyone within its ttl (the server's view: it knows no caller)."""
    return state_of(lease, "", "", now_s) is RemoteState.HELD


def server_allows_branch(lease: RemoteLease | None, new: str, now_s: int) -> bool:
    """A push to a leased branch passes the server only with the commit its holder announced
    in the lease just before (pre-push writes `tip`); any other commit, a client without
    guard's or a `--no-verify` push's, waits for the lease to end."""
    return not live(lease, now_s) or (lease is not None and lease.tip == new)


def server_allows_lease(old: RemoteLease | None, new: RemoteLease, now_s: int) -> bool:
    """A lease ref may be written by its own holder, or over a lease that is no longer live."""
    if not new.session or not new.host:
        return False
    return not live(old, now_s) or (old is not None and new.owned_by(old.session, old.host))


def shown_remote(remote: str) -> str:
    """A remote as guard prints and logs it: a URL's user and password left out (a push to a
    URL names it in full, tokens included)."""
    scheme, sep, rest = remote.partition("://")
    if not sep:
        return remote
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


def holder_text(lease: RemoteLease, now_s: int) -> str:
    who = f"session {printable(lease.session[:8]) or '(unreadable lease)'}"
    if lease.agent:
        who += f" ({printable(lease.agent)})"
    where = f"on machine {printable(lease.host) or 'unknown'}"
    renewed = format_idle(max(0, now_s - lease.stamp_s) * 1000)
    left = format_idle(max(0, lease.stamp_s + lease.ttl_s - now_s) * 1000)
    return f"{who} {where}, renewed {renewed} ago, free in {left} unless renewed"


def refused_text(remote: str, leased: list[RemoteLease], now_s: int) -> str:
    lines = [f"worktree-guard: push refused: the branch is leased on the remote "
             f"{printable(remote)} by another session:"]
    for lease in leased:
        lines.append(f"  {printable(lease.branch)}: {holder_text(lease, now_s)}")
    lines.append("Way out: push your work to a branch of your own, e.g. "
                 "`git push <remote> HEAD:refs/heads/<your-branch>`; the holder's session "
                 "ending gives the lease up.")
    return "\n".join(lines)


def server_refused_text(branch: str, lease: RemoteLease, now_s: int) -> str:
    return (f"worktree-guard (server): {printable(branch)} is leased by "
            f"{holder_text(lease, now_s)}; this push does not carry that lease. Push to a "
            "branch of your own, or wait for the lease to end.")


def unavailable_text(remote: str, why: str) -> str:
    return (f"worktree-guard: warning: the remote {printable(remote)} did not take guard's "
            f"branch lease ({printable(why)}); pushing without it. Other machines are not "
            "told about this push; `guard doctor` says more.")


# ---- git push --porcelain --------------------------------------------------------------------

PUSH_OK = "ok"
PUSH_STALE = "stale"  # the compare-and-swap lost: the lease moved since it was read
PUSH_UNAVAILABLE = "unavailable"  # unreachable, or a remote that refuses guard's refs


def push_answer(code: int, stdout: str, stderr: str) -> tuple[str, str]:
    """(PUSH_OK | PUSH_STALE | PUSH_UNAVAILABLE, why) from a push of lease refs only."""
    flags = []
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and LEASES in parts[1]:
            flags.append((parts[0], parts[2]))
    if any(flag == "!" and any(lost in summary for lost in _LOST) for flag, summary in flags):
        return PUSH_STALE, "stale"
    if code == 0 and flags and all(flag != "!" for flag, _ in flags):
        return PUSH_OK, ""
    rejected = [summary for flag, summary in flags if flag == "!"]
    if rejected:
        return PUSH_UNAVAILABLE, rejected[0]
    last = [line for line in stderr.splitlines() if line.strip()]
    return PUSH_UNAVAILABLE, (last[0] if last else f"git push exited {code}")[:200]


# How a lost compare-and-swap reads: the client saw another value advertised (stale info);
# the server found another old value (incorrect old value); two pushes met at the ref's lock
# (failed to update ref: "cannot lock ref ... reference already exists").
_LOST = ("stale info", "incorrect old value", "failed to update ref", "failed to lock")


def _one_line(value: str) -> str:
    return value.replace("\n", " ").replace("\r", " ")[:_MAX_FIELD]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
