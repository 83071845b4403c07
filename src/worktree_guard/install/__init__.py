"""`guard install` / `uninstall`: where hooks go, the settings merge, and the manifest that
lets uninstall restore every file byte for byte. A cold path: may use Typer and GitPython."""
