"""``LexicalIndex``: what the indexer keeps in step and the searcher asks of the lexical side.

``Bm25Index`` is the implementation; the protocol is what a second one (or a
test double) must offer: writes by chunk id, the same-language and the
cross-language legs with their ceilings (the scores' calibration, see
``kb.search.fusion``), row masks for filters, and the analysis the
explanations and highlights need. Its contract test is
``tests/kb/test_lexical_contract.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kb.search.analysis import Analyzer
from kb.search.explain import Analysed
from kb.search.lexical.index import Allowed, RowMask


class LexicalIndex(Protocol):
    """Keyword search over chunks keyed by int id, in their language and across it."""

    analyzer: Analyzer

    @property
    def identity(self) -> str:
        """Format and dictionary: a saved index with another identity is rebuilt."""
        ...

    @property
    def layout(self) -> int:
        """Renewed by every change that adds or moves rows: a ``RowMask`` only fits the layout it was made in."""
        ...

    @property
    def ids(self) -> list[int]: ...
    def __len__(self) -> int: ...
    def add(self, items: Sequence[tuple[int, str]]) -> None: ...
    def remove(self, ids: Iterable[int]) -> None: ...
    def save(self, directory: Path) -> None: ...
    def search(self, query: str, k: int, allowed: Allowed = None) -> list[tuple[int, float]]: ...
    def search_translated(self, query: str, k: int, allowed: Allowed = None) -> list[tuple[int, float]]: ...
    def ceiling(self, query: str) -> float: ...
    def translated_ceiling(self, query: str) -> float: ...
    def query_words(self, query: str) -> int: ...
    def rows_of(self, chunk_ids: npt.NDArray[np.int64]) -> RowMask: ...
    def english(self, word: str) -> tuple[str, ...]: ...
    def terms_in(self, text: str, words: frozenset[str] | None) -> Analysed: ...
