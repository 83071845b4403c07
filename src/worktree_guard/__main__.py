"""`python -m worktree_guard` runs the same entry point as the `guard` command."""

from worktree_guard.entry import main

raise SystemExit(main())
