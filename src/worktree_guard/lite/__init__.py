"""Standard-library stand-ins for the hook paths.

Every tool call starts a `guard hook` process, so every import on that path is paid each
time. What the usual modules cost there, measured with
`python -I -X importtime -c 'import M'` (cumulative, median of 5, on a 2-core machine):
`json` 11.5 ms (it pulls in `re` and `enum`), `signal` 6.8 ms and `enum` 6.5 ms, against
0.3 ms for `_json` and 0.1 ms for `_signal`, the C modules behind them. Hence:

- `fastjson` replaces `json`: parse and print through `_json`'s scanner and encoder.
- `deadline` replaces `signal`: the hooks' SIGALRM deadline through `_signal`.
- `kinds` replaces `enum`: str singletons compared with `is`, created once at import.
- `system` replaces `os` and `os.path` (1.3-1.5 ms with `python -I -S`, most of it
  `_collections_abc`'s classes for `os.environ`) with the same names on `posix`, the C
  module the interpreter loads before any code runs.
- `spawn` replaces `subprocess.run` for pre-push's git questions (posix_spawn, select).

The plain modules stay in use on the cold paths (the CLI, install, doctor) and as the
reference in the tests.
"""
