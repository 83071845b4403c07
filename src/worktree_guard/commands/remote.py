"""What people run about branch leases on the remote: status, list, doctor, the server hook.

No network unless asked (`--remote`): what this clone last saw is in its own refs
(refs/guard/seen/<remote>/<branch>, kept by pre-push; see core/remote_lease.py).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

from worktree_guard.core.events import read_events
from worktree_guard.core.printable import printable
from worktree_guard.core.remote_decide import (
    RemoteLease,
    RemoteState,
    holder_text,
    state_of,
)
from worktree_guard.core.remote_lease import (
    Git,
    RemoteLeaseError,
    fetch,
    host_name,
    now_s,
    read_seen,
    remote_key,
)
from worktree_guard.install.launcher import Launcher

SERVER_HOOK = "update"
SERVER_MARKER = "# worktree-guard server hook"


class RemoteCommandError(Exception):
    """Bad input or a repository guard cannot use: said once, nothing changed."""


def lease_info(lease: RemoteLease, session: str | None, now: int) -> dict[str, Any]:
    state = state_of(lease, session or "", host_name() if session else "", now)
    return {"branch": lease.branch, "state": state.value, "session": lease.session,
            "agent": lease.agent, "host": lease.host, "renewed_at": lease.stamp_s,
            "since": lease.since_s, "ttl_s": lease.ttl_s, "tip": lease.tip,
            "text": holder_text(lease, now)}


def default_remote(where: str) -> str:
    """The remote of the current branch's upstream, else `origin`."""
    git = Git(where)
    code, out, _ = git.run(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{push}"])
    if code == 0 and "/" in out.strip():
        return out.strip().split("/", 1)[0]
    return "origin"


def remote_leases(where: str, remote: str, ask: bool, session: str | None
                  ) -> list[dict[str, Any]]:  # fmt: skip
    """Every lease this clone knows of on `remote`; `ask`: fetch them first (one round trip)."""
    git = Git(where)
    key = remote_key(remote)
    if ask:
        why = fetch(git, remote, key)
        if why is not None:
            raise RemoteCommandError(f"the remote {printable(remote)} could not be asked: "
                                     f"{printable(why)}")
    now = now_s()
    leases = read_seen(git, key).get(key, {})
    return [lease_info(leases[b], session, now) for b in sorted(leases)]


def branch_lease(where: str, branch: str | None, ask: bool, session: str | None
                 ) -> dict[str, Any] | None:  # fmt: skip
    """`guard status`'s remote line: the current branch's lease on its push remote."""
    if not branch:
        return None
    remote = default_remote(where)
    try:
        leases = remote_leases(where, remote, ask, session)
    except (RemoteCommandError, RemoteLeaseError) as exc:
        return {"remote": remote, "branch": branch, "state": "unknown", "text": str(exc)}
    for info in leases:
        if info["branch"] == branch:
            return {"remote": remote, **info}
    return {"remote": remote, "branch": branch, "state": "free" if ask else "not seen",
            "text": ""}


def describe_branch_lease(info: dict[str, Any] | None) -> str | None:
    if info is None:
        return None
    remote, state = printable(info["remote"]), info["state"]
    if state == "not seen":
        return f"no lease seen on {remote} (guard status --remote asks it)"
    if state == "free":
        return f"free on {remote}"
    if state == "unknown":
        return f"unknown: {printable(info['text'])}"
    label = {RemoteState.MINE.value: "yours", RemoteState.EXPIRED.value: "expired (free)",
             RemoteState.HELD.value: "leased"}.get(state, state)
    return f"{label} on {remote}: {info['text']}"


def render_list(remote: str, leases: list[dict[str, Any]]) -> str:
    if not leases:
        return f"no branch leases on {printable(remote)}"
    lines = [f"branch leases on {printable(remote)}:"]
    for info in leases:
        lines.append(f"  {printable(info['branch'])}: {info['state']}, {info['text']}")
    return "\n".join(lines)


# ---- doctor ------------------------------------------------------------------------------------


def last_remote_outcome(lock_dir: str, workspace: str) -> dict[str, Any] | None:
    """The last remote-lease event of a push from this tree (the event log, no network)."""
    last = None
    for entry in read_events(lock_dir):
        if str(entry.get("event", "")).startswith("remote_") and entry.get(
                "workspace") == workspace and entry.get("hook") == "pre-push":
            last = entry
    return last


# ---- the server-side hook ---------------------------------------------------------------------


@dataclass(frozen=True)
class ServerHookResult:
    path: str
    done: str


def install_server_hook(repository: str, launcher: Launcher) -> ServerHookResult:
    """Write the `update` hook of a bare repository the user serves; an `update` hook of
    someone else's is left alone (and said)."""
    git = Git(repository)
    code, out, err = git.run(["rev-parse", "--is-bare-repository"])
    if code != 0:
        raise RemoteCommandError(f"not a git repository: {printable(repository)} "
                                 f"({printable(err.strip())})")
    if out.strip() != "true":
        raise RemoteCommandError(f"{printable(repository)} is not a bare repository: the "
                                 "server hook belongs in the repository clients push to")
    hooks = git.local(["rev-parse", "--path-format=absolute", "--git-path", "hooks"]).strip()
    path = os.path.join(hooks, SERVER_HOOK)
    text = (f"#!/bin/sh\n{SERVER_MARKER}: refuses pushes of a branch another live session\n"
            "# leases (refs/guard/leases/*), and rewrites or deletions of protected branches.\n"
            f"exec {launcher.command('git-hook', SERVER_HOOK)} \"$@\"\n")
    if os.path.lexists(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            if SERVER_MARKER not in fh.read(4096):
                raise RemoteCommandError(f"{printable(path)} is another tool's update hook; "
                                         "guard left it as it is (merge the two by hand)")
    os.makedirs(hooks, exist_ok=True)
    part = path + ".guard-part"
    with open(part, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(part, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    os.replace(part, path)
    return ServerHookResult(path, f"installed the server hook {printable(path)}")
