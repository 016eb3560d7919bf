"""Search: text analysis, chunking, embedders, the lexical and vector indexes, fusion and the searcher."""
