"""Domain and search core of the PMO knowledge base: models, store, chunking, indexes, search."""
