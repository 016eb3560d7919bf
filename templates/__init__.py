"""Jinja2 templates and static files of the web UI (a package so they ship in the wheel)."""
