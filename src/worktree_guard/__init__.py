"""worktree-guard: one writer per git working tree."""

__version__ = "0.1.0"
