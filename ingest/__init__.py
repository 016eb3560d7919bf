"""Ingesters (one module per format or content kind) and the pipeline that runs them."""
