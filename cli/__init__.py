"""The `kb` command line: a thin layer over the services in `kb/` and `ingest/`."""
