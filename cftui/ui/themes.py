"""The theme names a user may give, checked before the dashboard starts (Textual's own list)."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES

from cftui.errors import UsageError, did_you_mean


def check_theme_flag(theme: str) -> None:
    """--theme names a Textual theme, or it is a usage error (a bad [ui] theme is a config error)."""
    if theme not in BUILTIN_THEMES:
        raise UsageError(f"Unknown theme '{theme}' for --theme.{did_you_mean(theme, BUILTIN_THEMES)}",
                         hint=f"Themes: {', '.join(sorted(BUILTIN_THEMES))}.")
