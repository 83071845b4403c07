"""The git backstop: git hook arguments and stdin in, exit code and message out.

Runs inside git (commits, ref updates, pushes), so it also stops sessions whose agent skips
its own hooks. Imports the core and the shell model, never an agent adapter or the CLI.
"""
