"""Agent adapters: one module per coding agent.

Each reads its agent's hook payload, asks the core about the tool call it describes, and
answers in the one form that agent honours. Adapters never import each other, `git/` or the CLI.
"""
