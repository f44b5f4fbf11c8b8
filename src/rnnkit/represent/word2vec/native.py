"""CBOW's chunk of SGD steps as one C function, compiled once per machine and called by ctypes.

The same steps as `steps.cbow_steps` (the same windows, groups, negatives, rates and loss):
within a step every h_i is gathered, then every score s_ij = v'_{t_j} · h_i, gain
g_ij = η (y_j − σ(s_ij)) and ∂h_i = Σ_j g_ij v'_{t_j} is computed, all from the tables as they
were before the step, and only then W_out gets Σ_i g_ij h_i and every context row of W_in its
centre's ∂h (gensim's cbow_mean=1 rule, Mikolov et al. 2013a/b). Only the order of the float
additions differs from the torch code, so the vectors agree to rounding
(tests/represent/test_word2vec_native.py checks it to 1e-10 in float64).

Why. The torch step (`steps.cbow_update`) is a dozen gathers, bags, batched products and
scatters over (step, E) intermediates of a few MB each: per centre word it writes and reads
some 70 rows of E floats, and at the bench's step (1,364 centres) those intermediates do not
fit in a 1 MB L2 cache. Timed op by op inside a run (bench corpus, one thread, 2 cores shared
with other jobs) a step took 1.3-1.5 µs a centre word; the W_out gather, its `index_add_` and
the two bags over W_out's rows and h took over half of it, each two to three times its cost
timed alone on hot caches. Here a centre word costs its ~24 row reads and writes, in loops
that the compiler vectorises, with the step's h and ∂h (2 × 1,364 × E floats) as the only
intermediates, as in word2vec.c and gensim's Cython; its K + 1 dot products come first, so
that the CPU overlaps them. Timed the same way, on the same three chunks in one process: 0.68
µs a centre word here, 1.30 µs for the torch steps and 1.49 µs for the torch steps before
issue 27's second round (with making their bags). End to end, `bench/word2vec.py --models
cbow` (3M words, 2 threads, a loaded machine) measured 1.27-1.70M words per CPU second with
this kernel (gensim 0.80-0.88M in the same runs) against 1.02-1.04M for the torch steps
before (gensim 0.93-1.02M). The call releases the GIL (ctypes does), so Hogwild workers run in
parallel as with TorchScript.

Building. The C source below is compiled by the system C compiler (`$CC`, else `cc`) into a
shared library cached under `$RNNKIT_CACHE` (default `$XDG_CACHE_HOME/rnnkit`, else
`~/.cache/rnnkit`, as the chorale cache), named by the hash of the source and flags, so a
machine compiles it once (~1-3 s). On x86-64 the loops are compiled for x86-64-v4 (AVX-512),
v3 (AVX2) and plain x86-64 (`target_clones`; the CPU picks at load time). Without a
compiler, or if the build fails, `cbow_kernel()` returns None and training runs the torch steps
(a debug log line says why); `RNNKIT_WORD2VEC_NATIVE=0` also forces the torch steps.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (2013a).
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013 (2013b).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import subprocess
import tempfile
import threading
from pathlib import Path
from string import Template

import torch
from torch import Tensor

logger = logging.getLogger(__name__)

# One function per float type `real`: $name, and the type's $exp, $log1p and fabs$f.
# Arguments: the tables (V, E); the chunk's M word ids and inclusive windows [left_i, right_i]
# (the context is that range without i); its negatives (⌈M/G⌉, K), group r for centres
# rG … rG + G − 1; steps of `rows` centres (a multiple of G), step s at rate lrs[s].
# Returns 0, or 1 if a buffer could not be allocated.
_FUNCTION = Template(r"""
CLONES int $name(real *w_in, real *w_out, int64_t E, const int64_t *ids,
                 const int64_t *left, const int64_t *right, int64_t M,
                 const int64_t *negatives, int64_t K, int64_t G, int64_t rows,
                 const double *lrs, double *loss_out, int64_t *count_out)
{
    int64_t T = G + K;
    real *hidden = malloc(sizeof(real) * rows * E);  /* h of the step's centres */
    real *grad = malloc(sizeof(real) * rows * E);    /* eta dL/dh of them */
    real *gain = malloc(sizeof(real) * rows * T);    /* g_ij: own w_O at column i mod G, then K */
    double loss = 0.0;
    int64_t count = 0;
    if (!hidden || !grad || !gain) {
        free(hidden); free(grad); free(gain);
        return 1;
    }
    for (int64_t first = 0, step = 0; first < M; first += rows, step++) {
        int64_t last = first + rows < M ? first + rows : M;
        real lr = (real) lrs[step];
        /* reads, from the tables as they were before the step: h_i = (1/|C_i|) sum of the
           context rows, s_ij = v'_j . h_i, g_ij = eta (y_j - sigma(s_ij)) and
           dh_i = sum_j g_ij v'_j */
        for (int64_t i = first; i < last; i++) {
            real *restrict h = hidden + (i - first) * E;
            real *restrict dh = grad + (i - first) * E;
            real *g = gain + (i - first) * T;
            int64_t size = right[i] - left[i], group = i / G, word = ids[i];
            for (int64_t j = 0; j < T; j++) g[j] = 0;
            if (size <= 0) continue;  /* empty window: not trained */
            count++;
            for (int64_t e = 0; e < E; e++) h[e] = 0;
            for (int64_t e = 0; e < E; e++) dh[e] = 0;
            for (int64_t p = left[i]; p <= right[i]; p++) {
                if (p == i) continue;
                const real *restrict v = w_in + ids[p] * E;
                #pragma omp simd
                for (int64_t e = 0; e < E; e++) h[e] += v[e];
            }
            real share = (real) 1 / (real) size;
            #pragma omp simd
            for (int64_t e = 0; e < E; e++) h[e] *= share;
            /* the scores first, kept in g: independent dot products overlap in the CPU */
            for (int64_t j = -1; j < K; j++) {  /* j = -1: the centre word w_O, label 1 */
                int64_t target = j < 0 ? word : negatives[group * K + j];
                if (j >= 0 && target == word) continue;  /* a negative equal to w_O: skipped */
                const real *restrict o = w_out + target * E;
                real s = 0;
                #pragma omp simd reduction(+:s)
                for (int64_t e = 0; e < E; e++) s += h[e] * o[e];
                g[j < 0 ? i - group * G : G + j] = s;
            }
            for (int64_t j = -1; j < K; j++) {
                int64_t target = j < 0 ? word : negatives[group * K + j];
                if (j >= 0 && target == word) continue;
                const real *restrict o = w_out + target * E;
                int64_t at = j < 0 ? i - group * G : G + j;
                /* L = softplus(x), x = -s for w_O, s for a negative; one exp for L and sigma */
                real s = g[at], x = j < 0 ? -s : s, z = $exp(-fabs$f(s));
                loss += (x > 0 ? x : 0) + $log1p(z);
                real sigma = s >= 0 ? (real) 1 / ((real) 1 + z) : z / ((real) 1 + z);
                real gj = lr * ((j < 0 ? (real) 1 : (real) 0) - sigma);
                g[at] = gj;
                #pragma omp simd
                for (int64_t e = 0; e < E; e++) dh[e] += gj * o[e];
            }
        }
        /* writes: v'_j += g_ij h_i, and every context row of centre i += dh_i */
        for (int64_t i = first; i < last; i++) {
            const real *restrict h = hidden + (i - first) * E;
            const real *restrict dh = grad + (i - first) * E;
            const real *g = gain + (i - first) * T;
            int64_t group = i / G;
            if (right[i] - left[i] <= 0) continue;
            for (int64_t j = -1; j < K; j++) {
                int64_t target = j < 0 ? ids[i] : negatives[group * K + j];
                real gj = g[j < 0 ? i - group * G : G + j];
                if (gj == 0) continue;  /* a skipped negative */
                real *restrict o = w_out + target * E;
                #pragma omp simd
                for (int64_t e = 0; e < E; e++) o[e] += gj * h[e];
            }
            for (int64_t p = left[i]; p <= right[i]; p++) {
                if (p == i) continue;
                real *restrict v = w_in + ids[p] * E;
                #pragma omp simd
                for (int64_t e = 0; e < E; e++) v[e] += dh[e];
            }
        }
    }
    free(hidden); free(grad); free(gain);
    *loss_out = loss;
    *count_out = count;
    return 0;
}
""")

_HEADER = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef RNNKIT_CLONES
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif
"""

SOURCE = (
    _HEADER
    + "#define real float\n"
    + _FUNCTION.substitute(name="rnnkit_cbow_f32", exp="expf", log1p="log1pf", f="f")
    + "#undef real\n#define real double\n"
    + _FUNCTION.substitute(name="rnnkit_cbow_f64", exp="exp", log1p="log1p", f="")
    + "#undef real\n"
)
_FLAGS = ["-O3", "-fopenmp-simd", "-fno-math-errno", "-shared", "-fPIC"]
_SYMBOLS = {torch.float32: "rnnkit_cbow_f32", torch.float64: "rnnkit_cbow_f64"}
_BUILD_LOCK = threading.Lock()


class CbowKernel:
    """The compiled `rnnkit_cbow_*` functions of one shared library."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._library = library
        self._functions = {}
        for dtype, symbol in _SYMBOLS.items():
            function = getattr(library, symbol)
            function.restype = ctypes.c_int
            function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            function.argtypes += [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_void_p]
            function.argtypes += [ctypes.c_int64] * 3 + [ctypes.c_void_p] * 3
            self._functions[dtype] = function

    @staticmethod
    def accepts(weight_in: Tensor, weight_out: Tensor) -> bool:
        """Whether the tables suit the kernel: the same CPU dtype it has, contiguous (V, E)."""
        return (
            weight_in.device.type == weight_out.device.type == "cpu"
            and weight_in.dtype == weight_out.dtype
            and weight_in.dtype in _SYMBOLS
            and weight_in.dim() == 2
            and weight_in.shape == weight_out.shape
            and weight_in.is_contiguous()
            and weight_out.is_contiguous()
        )

    def cbow_steps(
        self,
        weight_in: Tensor,
        weight_out: Tensor,
        ids: Tensor,
        left: Tensor,
        right: Tensor,
        negatives: Tensor,
        group: int,
        rows: int,
        lrs: list[float],
    ) -> tuple[float, int]:
        """`steps.cbow_steps` on the windows [left_i, right_i] of M centres; tables in place.

        Shapes: weight_in, weight_out (V, E), `accepts`; ids, left, right (M,) int (left_i ≤ i ≤
        right_i, in [0, M)); negatives (⌈M/G⌉, K) int, G = `group`; `rows` a multiple of G;
        one rate a step in lrs. Returns (summed loss L, number of trained centres).
        """
        M, E = ids.numel(), weight_in.shape[1]
        if not self.accepts(weight_in, weight_out):
            raise ValueError("the CBOW kernel needs contiguous CPU float32/float64 tables")
        if rows < 1 or rows % group or len(lrs) < -(-M // rows):
            raise ValueError(f"rows {rows} must be a multiple of G = {group}, one rate a step")
        if negatives.shape[0] * group < M:
            draws = negatives.shape[0]
            raise ValueError(f"{draws} draws of negatives for {M} centres, G = {group}")
        ids, left, right, negatives = (
            t.to(torch.int64).contiguous() for t in (ids, left, right, negatives)
        )  # fmt: skip
        rates = torch.tensor(lrs, dtype=torch.float64)
        loss, count = ctypes.c_double(), ctypes.c_int64()
        # ctypes releases the GIL for the call: Hogwild workers run it in parallel
        status = self._functions[weight_in.dtype](
            weight_in.data_ptr(), weight_out.data_ptr(), E, ids.data_ptr(), left.data_ptr(),
            right.data_ptr(), M, negatives.data_ptr(), negatives.shape[1], group, rows,
            rates.data_ptr(), ctypes.byref(loss), ctypes.byref(count),
        )  # fmt: skip
        if status != 0:
            raise MemoryError(f"the CBOW kernel could not allocate its step buffers ({rows} × {E})")
        return loss.value, count.value


@functools.cache
def cbow_kernel() -> CbowKernel | None:
    """The compiled CBOW kernel, or None (no compiler, a failed build, or switched off)."""
    if os.environ.get("RNNKIT_WORD2VEC_NATIVE", "1") == "0":
        logger.debug("RNNKIT_WORD2VEC_NATIVE=0: CBOW runs the torch steps")
        return None
    with _BUILD_LOCK:
        try:
            return CbowKernel(ctypes.CDLL(str(_build())))
        except (OSError, subprocess.SubprocessError, AttributeError) as err:
            logger.debug("the CBOW kernel is unavailable (%s); CBOW runs the torch steps", err)
            return None


def _build() -> Path:
    """The shared library of SOURCE: on x86-64 with per-CPU clones if the compiler makes them."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        try:
            return _compile([*_FLAGS, "-DRNNKIT_CLONES"])
        except subprocess.CalledProcessError as err:  # an older compiler: one plain build
            logger.debug("CBOW kernel clones failed (%s); building it without", err.stderr)
    return _compile(list(_FLAGS))


def _compile(flags: list[str]) -> Path:
    """SOURCE compiled with `flags` into the cache, unless it is there already."""
    compiler = os.environ.get("CC", "cc")
    key = hashlib.sha256("\0".join([SOURCE, compiler, *flags]).encode()).hexdigest()[:16]
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnkit"
    cache = Path(os.environ.get("RNNKIT_CACHE") or default)
    library = cache / f"word2vec-cbow-{platform.machine()}-{key}.so"
    if library.exists():
        return library
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        source, built = Path(work) / "cbow.c", Path(work) / "cbow.so"
        source.write_text(SOURCE, encoding="utf-8")
        subprocess.run(
            [compiler, *flags, "-o", str(built), str(source), "-lm"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        os.replace(built, library)  # atomic: a concurrent build leaves one whole file
    return library
