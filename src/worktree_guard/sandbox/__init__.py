"""The kernel's half of the promise: shell commands run with other sessions' trees read-only.

`kernel.py` talks to Linux (user and mount namespaces, Landlock, capabilities) through
ctypes; `policy.py` is pure: the lease state in, the mounts to make out; `prefix.py` is the
program an agent's shell commands are started through (Claude Code's
`CLAUDE_CODE_SHELL_PREFIX`). Standard library only: the prefix runs before every command.
"""
