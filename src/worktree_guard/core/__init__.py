"""The core: the workspace lease and the decisions about it.

Knows no agent and no hook format. Adapters (`agents/`, `git/`) and the people's commands
call in; nothing here imports them. Only `lease.py` opens lease files; `decide.py` does no I/O.
"""
