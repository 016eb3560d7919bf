"""Lexical (BM25) side of hybrid search; see :class:`Bm25Index`."""

from kb.search.lexical.index import Bm25Index

__all__ = ["Bm25Index"]
