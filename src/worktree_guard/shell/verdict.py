"""The result type of the classifier, ShellVerdict, and nothing else."""

from __future__ import annotations

__all__ = ["ShellVerdict"]


class ShellVerdict:
    """Outcome of classifying one Bash command line (plain slots: `dataclasses` is slow to
    import, and this runs on every Bash tool call)."""

    __slots__ = ("disables_git_hooks", "read_only", "reason")

    def __init__(self, read_only: bool, disables_git_hooks: bool, reason: str) -> None:
        self.read_only = read_only  # True only when the WHOLE command is provably read-only
        self.disables_git_hooks = disables_git_hooks  # the command switches git hooks off
        self.reason = reason  # why not read-only / why it bypasses hooks ("" when read-only)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShellVerdict) and (
            self.read_only, self.disables_git_hooks, self.reason
        ) == (other.read_only, other.disables_git_hooks, other.reason)

    def __hash__(self) -> int:
        return hash((self.read_only, self.disables_git_hooks, self.reason))

    def __repr__(self) -> str:
        return (
            f"ShellVerdict(read_only={self.read_only}, "
            f"disables_git_hooks={self.disables_git_hooks}, reason={self.reason!r})"
        )
