"""The Textual dashboard. The only package in cftui that imports Textual."""
