"""One BLAS/OpenMP thread per pool, for the whole process, set before any pool loads.

Why not a per-call limit: OpenMP's thread count is a per-thread setting that a
new thread takes from ``OMP_NUM_THREADS`` as read when the library loaded, and
FastAPI runs every sync route on a worker thread. A limit applied on the main
thread, or around one call, does not reach those threads; at 100k chunks
8 clients then got fewer searches per second than one (issue 18: 8-10 req/s
against 34.5 with the variables set before start). So the ``kb`` command calls
``pin_native_threads`` before it imports anything that loads numpy, FAISS or
torch, and the image sets the same variables.
"""

from __future__ import annotations

import importlib
import os
import sys

from kb.config import NativeThreadSettings

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Read once, when OpenMP, OpenBLAS and MKL load (numpy, FAISS and torch bring their own copies)."""


def pin_native_threads(threads: int | None = None) -> int:
    """Size every BLAS/OpenMP pool to ``threads`` (default: KB_NATIVE_THREADS); return the count.

    The variables are what counts, and only for libraries not loaded yet (they
    are also inherited by the ingest's parser processes). Libraries already
    loaded are told directly, which covers the calling thread and BLAS, but not
    OpenMP threads started later: call this first.
    """
    n = threads if threads is not None else NativeThreadSettings().native_threads
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(n)
    if "numpy" in sys.modules:  # threadpoolctl imports numpy-free, but only matters once a BLAS is loaded
        importlib.import_module("threadpoolctl").threadpool_limits(limits=n)
    return n
