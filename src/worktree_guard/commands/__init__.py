"""What people run: status, release, run, log, doctor, statusline, demo.

One module per command, plain functions under the thin Typer app in `cli.py`. Cold paths,
except `statusline`, which `entry.py` routes without Typer because the client redraws often.
"""
