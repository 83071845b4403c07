"""The branch lease on the git remote: read, write and give up, by compare-and-swap.

Plain git plumbing through lite.spawn (this runs in pre-push and at SessionEnd):
- a lease is a commit (core/remote_decide.py: its text) on the remote's
  `refs/guard/leases/<branch>`, written with `git hash-object -t commit -w` (one process,
  no config needed, the empty tree needs no storing);
- it moves only by `git push --force-with-lease=<ref>:<expected>` (the expected value the
  empty string for "must not exist"), `--atomic` when several move: git's receive-pack
  checks each old value under the ref's lock, so of two machines racing, one wins;
- what this clone last saw of a remote's leases is kept in its own refs,
  `refs/guard/seen/<remote>/<branch>` (`git fetch` of `refs/guard/leases/*` with `--prune`,
  and an update after each push that won), so a holder's renewal needs no read first.
"""

from __future__ import annotations

import posix
import time

from worktree_guard.core.remote_decide import (
    HEADS,
    LEASES,
    PUSH_OK,
    RemoteLease,
    commit_text,
    lease_ref,
    parse_lease,
    push_answer,
)
from worktree_guard.lite import spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

SEEN = "refs/guard/seen/"
_FORMAT = "--format=%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents)%00"
_LOCAL_TIMEOUT_S = 30.0
NETWORK_TIMEOUT_S = 60.0


class RemoteLeaseError(Exception):
    """git could not do a local step (a network failure is an answer, not this)."""


def now_s() -> int:
    return int(time.time())


def host_name() -> str:
    """This machine's name as the lease records it (what `uname -n` says)."""
    return posix.uname().nodename


def remote_key(remote: str) -> str:
    """The folder under refs/guard/seen/ for a remote: its name when it is one (pre-push's
    first argument), else `url-` and a hash of the URL (which may hold credentials)."""
    if remote and remote[0] not in ".-" and ".." not in remote and all(
            c.isalnum() or c in "._-" for c in remote) and not remote.endswith(".lock"):
        return remote
    import hashlib  # a push to a bare URL only

    return "url-" + hashlib.sha256(remote.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class Git:
    """git in one repository: the current one (a hook's), or `where` (`git -C`)."""

    def __init__(self, where: str | None = None, network_timeout_s: float = NETWORK_TIMEOUT_S
                 ) -> None:  # fmt: skip
        self.prefix = ["git", "-C", where] if where else ["git"]
        self.network_timeout_s = network_timeout_s

    def run(self, args: list[str], stdin: bytes = b"", timeout_s: float = _LOCAL_TIMEOUT_S
            ) -> tuple[int, str, str]:  # fmt: skip
        try:
            code, out, err = spawn.run([*self.prefix, *args], stdin, timeout_s)
        except spawn.SpawnError as exc:
            raise RemoteLeaseError(str(exc)) from None
        return (code, out.decode("utf-8", "surrogateescape"),
                err.decode("utf-8", "surrogateescape"))

    def local(self, args: list[str], stdin: bytes = b"") -> str:
        code, out, err = self.run(args, stdin)
        if code != 0:
            raise RemoteLeaseError(f"git {args[0]}: {err.strip() or f'exit {code}'}")
        return out


def read_seen(git: Git, key: str | None = None) -> dict[str, dict[str, RemoteLease]]:
    """What this clone last saw: remote key -> branch -> lease (every remote when key is None)."""
    out = git.local(["for-each-ref", _FORMAT, SEEN + (key + "/" if key else "")])
    seen: dict[str, dict[str, RemoteLease]] = {}
    parts = out.split("\0")
    for at in range(0, len(parts) - 3, 4):
        ref, sha, stamp, message = parts[at : at + 4]
        rest = ref.lstrip("\n").removeprefix(SEEN)
        owner, sep, branch = rest.partition("/")
        if not sep or not branch:
            continue
        lease = parse_lease(sha, _int(stamp), message)
        lease.branch = branch  # the ref names the branch; the message could say anything
        seen.setdefault(owner, {})[branch] = lease
    return seen


def fetch(git: Git, remote: str, key: str) -> str | None:
    """Bring the remote's leases into refs/guard/seen/<key>/ (one round trip). None when
    done, else why not."""
    code, _, err = git.run(
        ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-maintenance",
         "--no-recurse-submodules", "--prune", "--", remote, f"+{LEASES}*:{SEEN}{key}/*"],
        timeout_s=git.network_timeout_s)
    if code == 0:
        return None
    lines = [line for line in err.splitlines() if line.strip()]
    return (lines[0] if lines else f"git fetch exited {code}")[:200]


def write_commit(git: Git, message: str, stamp_s: int, parent: str | None) -> str:
    text = commit_text(message, stamp_s, parent).encode("utf-8", "surrogateescape")
    return git.local(["hash-object", "-t", "commit", "-w", "--stdin"], text).strip()


def cas_push(git: Git, remote: str, moves: list[tuple[str, str | None, str | None]]
             ) -> tuple[str, str]:  # fmt: skip
    """Move lease refs on the remote, each only if it still has its expected value (None: must
    not exist); new None deletes. All or none. (PUSH_OK | PUSH_STALE | PUSH_UNAVAILABLE, why)."""
    args = ["push", "--porcelain", "--no-verify", "--no-signed", "--no-follow-tags",
            "--recurse-submodules=no"]
    if len(moves) > 1:
        args.append("--atomic")
    for ref, _, expected in moves:
        args.append(f"--force-with-lease={ref}:{expected or ''}")
    args += ["--", remote]  # a remote argument is never read as an option
    args += [f"{new}:{ref}" if new else f":{ref}" for ref, new, _ in moves]
    code, out, err = git.run(args, timeout_s=git.network_timeout_s)
    return push_answer(code, out, err)


def set_seen(git: Git, key: str, shas: dict[str, str | None]) -> None:
    """Record what this clone now knows the remote holds (None: no lease)."""
    lines = "".join(f"update {SEEN}{key}/{branch} {sha}\n" if sha else
                    f"delete {SEEN}{key}/{branch}\n" for branch, sha in shas.items())
    if lines:
        git.local(["update-ref", "--stdin"], lines.encode("utf-8", "surrogateescape"))


def release_session(where: str, session: str, log: Callable[..., None],
                    timeout_s: float = 15.0) -> list[str]:
    """At a session's end: give up, on each named remote, the branch leases this session
    took from this machine (a compare-and-swap delete: a lease someone else took since stays).
    Best effort: an unreachable remote keeps the lease until its ttl. Returns the branches
    released. Pushes to a bare URL are freed by their ttl only (no URL is stored)."""
    git = Git(where, timeout_s)
    host = host_name()
    released: list[str] = []
    for key, leases in read_seen(git).items():
        mine = {b: lease for b, lease in leases.items() if lease.owned_by(session, host)}
        if not mine or key.startswith("url-"):
            continue
        moves: list[tuple[str, str | None, str | None]] = [
            (lease_ref(b), None, lease.sha) for b, lease in mine.items()]
        answer, why = cas_push(git, key, moves)
        if answer == PUSH_OK:
            set_seen(git, key, dict.fromkeys(mine))
            released += list(mine)
            for branch in mine:
                log("remote_released", remote=key, branch=branch, ref=HEADS + branch)
        else:
            log("remote_release_failed", remote=key, branches=sorted(mine), why=why or answer)
    return released


def read_lease(git: Git, ref: str) -> RemoteLease | None:
    """The lease a ref of this repository points at (a server hook's view), or None."""
    for leases in _read_refs(git, ref).values():
        return leases
    return None


def _read_refs(git: Git, ref: str) -> dict[str, RemoteLease]:
    out = git.local(["for-each-ref", _FORMAT, ref])
    found: dict[str, RemoteLease] = {}
    parts = out.split("\0")
    for at in range(0, len(parts) - 3, 4):
        name, sha, stamp, message = parts[at : at + 4]
        name = name.lstrip("\n")
        if name == ref:
            found[name] = parse_lease(sha, _int(stamp), message)
    return found


def lease_of_object(git: Git, sha: str) -> RemoteLease | None:
    """The lease a pushed commit would be (a server hook checks it before the ref moves);
    None when the object is not a commit."""
    code, out, _ = git.run(["cat-file", "commit", sha])
    if code != 0:
        return None
    header, _, message = out.partition("\n\n")
    stamp = 0
    for line in header.splitlines():
        if line.startswith("committer "):
            words = line.rsplit(" ", 2)
            stamp = _int(words[1]) if len(words) == 3 else 0
    return parse_lease(sha, stamp, message)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
