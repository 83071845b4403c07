"""Conservative classification of Bash tool commands, for the PreToolUse hook.

Two questions are answered for a whole command line: is it provably read-only, and
does anything in it switch git hooks off?  The entry point is
:func:`worktree_guard.shell.classify.classify_command`; the other modules are its
parts (see the classify module's docstring for the map).

Runs on every PreToolUse hook call, as a fresh process each time, so the package is
standard library only, made of plain functions and cheap to import: its modules
import nothing heavy at load time.  In particular the lexer and the common checks
are hand-written scanners rather than regular expressions, because ``import re``
(which pulls in enum, functools, collections ...) plus compiling the patterns cost
about half an interpreter start on every Bash call.  The few patterns for rare
constructs ($'...' strings, the unparsable-line scan) are compiled lazily, so ``re``
is imported only when such a command is classified.

This file deliberately imports nothing, so importing one submodule costs only that
submodule and what it needs.
"""
