"""pre-push's branch lease on the remote: take or renew it for each pushed branch, or refuse.

Run after the local checks passed, for a session's push (a person's push takes no lease; a
server hook holds it, see git/server_hook.py). The cost: one extra round trip when what this
clone last saw is right (the holder renewing, a branch nobody leased): the compare-and-swap
push itself. When it is not (another machine leased the branch since), the swap loses and
one fetch of the remote's leases says why: refused, or (an expired or released lease) one
more swap.
"""

from __future__ import annotations

from worktree_guard.core.remote_decide import (
    HEADS,
    PUSH_OK,
    PUSH_UNAVAILABLE,
    ZERO,
    RemoteLease,
    RemoteState,
    lease_message,
    lease_ref,
    refused_text,
    shown_remote,
    state_of,
    unavailable_text,
)
from worktree_guard.core.remote_lease import (
    Git,
    RemoteLeaseError,
    cas_push,
    fetch,
    host_name,
    now_s,
    read_seen,
    remote_key,
    set_seen,
    write_commit,
)
from worktree_guard.git.rules import PushKind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from worktree_guard.git.rules import PushUpdate

REFUSE = 1
_ROUNDS = 3  # swap, (lost) fetch and swap again, (lost again) once more


def pushed_branches(updates: list[PushUpdate]) -> dict[str, str]:
    """branch -> the commit it will have on the remote (ZERO for a deletion)."""
    tips: dict[str, str] = {}
    for u in updates:
        if u.remote_ref.startswith(HEADS) and len(u.remote_ref) > len(HEADS):
            deleted = u.kind is PushKind.DELETE
            tips[u.remote_ref[len(HEADS):]] = ZERO if deleted else u.local_sha
    return tips


class RemoteLeasePush:
    def __init__(self, remote: str, session: str, agent: str, ttl_s: int,
                 say: Callable[[str], None], log: Callable[..., None]) -> None:  # fmt: skip
        self.remote, self.session, self.agent, self.ttl_s = remote, session, agent, ttl_s
        self.shown = shown_remote(remote)  # what is printed and logged
        self.say, self.log = say, log
        self.key = remote_key(remote)
        self.host = host_name()
        self.git = Git()

    def run(self, tips: dict[str, str]) -> int:
        try:
            return self._run(tips)
        except RemoteLeaseError as exc:
            return self.unavailable(str(exc))

    def _run(self, tips: dict[str, str]) -> int:
        seen: dict[str, RemoteLease] | None = read_seen(self.git, self.key).get(self.key, {})
        fetched = False
        for _ in range(_ROUNDS):
            if seen is None:
                return 0  # the remote could not be asked: said once, the push goes on
            now = now_s()
            states = {b: state_of(seen.get(b), self.session, self.host, now) for b in tips}
            held = [seen[b] for b, s in states.items() if s is RemoteState.HELD]
            if held and not fetched:
                # Maybe given up since this clone looked: ask the remote before refusing.
                seen, fetched = self.fetched(), True
                continue
            if held:
                return self.refuse(held, now)
            moves: list[tuple[str, str | None, str | None]] = []
            writes: dict[str, str | None] = {}
            for branch, tip in tips.items():
                old = seen.get(branch)
                mine = states[branch] is RemoteState.MINE and old is not None
                since = old.since_s if mine and old is not None else now
                message = lease_message(branch, self.session, self.host, self.agent, since,
                                        self.ttl_s, tip)
                sha = write_commit(self.git, message, now, old.sha if old else None)
                moves.append((lease_ref(branch), sha, old.sha if old else None))
                writes[branch] = sha
            answer, why = cas_push(self.git, self.remote, moves)
            if answer == PUSH_OK:
                set_seen(self.git, self.key, writes)
                for branch in tips:
                    old = seen.get(branch)
                    renewed = states[branch] is RemoteState.MINE
                    self.log("remote_renewed" if renewed else "remote_acquired",
                             remote=self.shown, branch=branch, ref=HEADS + branch,
                             previous_session=None if renewed or old is None else old.session,
                             previous_state=None if renewed else states[branch].value)
                return 0
            if answer == PUSH_UNAVAILABLE:
                return self.unavailable(why)
            # The swap lost: the lease moved since this clone saw it. Look, then decide again.
            seen, fetched = self.fetched(), True
        if seen is None:
            return 0
        self.say("worktree-guard: push refused: the branch lease on the remote kept changing "
                 "while guard took it (other machines are pushing this branch); push again.")
        self.log("remote_denied", remote=self.shown, branches=sorted(tips), why="race")
        return REFUSE

    def fetched(self) -> dict[str, RemoteLease] | None:
        why = fetch(self.git, self.remote, self.key)
        if why is not None:
            self.unavailable(why)
            return None
        return read_seen(self.git, self.key).get(self.key, {})

    def refuse(self, held: list[RemoteLease], now: int) -> int:
        self.say(refused_text(self.shown, held, now))
        for lease in held:
            self.log("remote_denied", remote=self.shown, branch=lease.branch,
                     ref=HEADS + lease.branch, holder=lease.session, holder_host=lease.host)
        return REFUSE

    def unavailable(self, why: str) -> int:
        """The push goes on without a lease: one warning, one event (`guard doctor` reads it)."""
        self.say(unavailable_text(self.shown, shown_remote(why)))
        self.log("remote_lease_unavailable", remote=self.shown, why=why)
        return 0
