"""FastAPI web UI and JSON API."""
