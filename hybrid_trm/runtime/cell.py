"""The recursive cell in numpy: model/cell.py's network and updates, step for
step, on float32 arrays of shape (rows, P, H).

    net(u)   = rms_norm(u + down(gelu(up(u)))) * norm
    latent:    z = net(x + y + z + carry(z one position down))
    answer:    y = net(y + z)

numpy has no erf, which the exact GELU needs: it is read from a table of the
normal distribution's CDF, linearly interpolated (error below 3e-8 in the CDF;
against math.erf the GELU is within 5e-7, torch's float32 GELU within 1.1e-6).
At 256 wide, the table took 5.1 / 8.3 / 34 / 198 µs a call at 1 / 6 / 50 / 300
rows where an odd rational polynomial for erf (24 array operations, error 1.2e-6)
took 13.8 / 17.7 / 41 / 169: a solve's levels are small, and there the cost is
the number of numpy calls, not the arithmetic.

The network's wide intermediates (rows x 256) are written into buffers kept per
thread (Scratch): allocated afresh at every step, arrays past glibc's 128 KB
mmap threshold came back as new pages each time, and page faults made a
300-row step 2.6x slower (1,140 µs against 440).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Callable, Protocol

import numpy as np

from .. import budget
from .weights import Weights

EPS = 1e-6  # the RMS norm's (model/cell.py's RMSNorm)
STEPS_PER_UNIT = 1024  # table entries per unit of the GELU's input: a power of two keeps x * 1024 exact
TABLE_RANGE = 8  # the CDF is 0 below -8 and 1 above 8, within float32
OFFSET = float(TABLE_RANGE * STEPS_PER_UNIT)  # the table's index of 0


@lru_cache(maxsize=1)
def _cdf_table() -> tuple[np.ndarray, np.ndarray]:
    """The standard normal CDF at every 1/1024 in [-8, 8], and the slope to the next entry."""
    grid = np.arange(-TABLE_RANGE * STEPS_PER_UNIT, TABLE_RANGE * STEPS_PER_UNIT + 1) / STEPS_PER_UNIT
    # erfc: exact in the lower tail; numpy's division is Python's, so the same table as
    # a loop of 0.5 * math.erfc(-v / sqrt(2)), in half the time (a fresh `solve` builds it)
    cdf = 0.5 * np.fromiter(map(math.erfc, (-grid / math.sqrt(2.0)).tolist()), dtype=np.float64, count=len(grid))
    return cdf[:-1].astype(np.float32), np.diff(cdf).astype(np.float32)


def gelu(t: np.ndarray, scratch: Scratch | None = None) -> np.ndarray:
    """The exact (erf) GELU of t / 1024, times 1024, elementwise: its input comes
    scaled by 1024 (Cell keeps the up layer's weights so) because the table is
    read at 1024 steps per unit. Overwrites nothing but the scratch buffers (its
    result is one of them: read it before the next call)."""
    value, slope = _cdf_table()
    _, fraction, whole, index, out = (scratch or Scratch()).buffers(t.shape)
    np.floor(t, out=whole)
    np.subtract(t, whole, out=fraction)  # the fraction of a step, exact
    np.copyto(index, whole, casting="unsafe")
    index += TABLE_RANGE * STEPS_PER_UNIT
    # Past the table's ends the index is clamped to its first or last entry, where
    # Phi is 0 or 1 and flat: the same as clamping the input, one call fewer.
    slope.take(index, mode="clip", out=out)
    out *= fraction
    out += value.take(index, mode="clip", out=whole)
    out *= t
    return out


class Scratch(threading.local):
    """Buffers for the network's wide intermediates, one set per thread, grown to
    the largest step so far up to MOST elements (past it a step allocates its
    own); the views of each shape are kept, a step's own lookup is one dict get."""

    MOST = 1 << 21  # elements: 2M, 48 MB of buffers

    def __init__(self):
        self.held: tuple[np.ndarray, ...] = ()
        self.views: dict[tuple[int, ...], tuple[np.ndarray, ...]] = {}

    def buffers(self, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        """(hidden, fraction, whole, index, out) views of `shape`: the network's input
        to the GELU and the GELU's four (float32 but for the intp index)."""
        views = self.views.get(shape)
        if views is not None:
            return views
        size = math.prod(shape)
        if size > self.MOST:
            return _fresh(size, shape)
        if not self.held or len(self.held[0]) < size:
            self.held, self.views = _fresh(max(size, 4096), (max(size, 4096),)), {}
        if len(self.views) > 512:  # shapes seen: one per row count
            self.views = {}
        views = self.views[shape] = tuple(b[:size].reshape(shape) for b in self.held)
        return views


def _fresh(size: int, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.empty(size, dtype=d).reshape(shape) for d in (np.float32, np.float32, np.float32, np.intp, np.float32))


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """x @ weight (+ bias) over the last axis, as one 2-D matmul: numpy runs a 3-D
    one as a loop of small ones. np.dot where the rows are contiguous (the same
    BLAS call as matmul's, ~0.4 µs less a call); matmul elsewhere, which may not
    call BLAS at all on strided rows."""
    flat = x.reshape(-1, x.shape[-1])
    out = np.dot(flat, weight) if flat.flags.c_contiguous else flat @ weight
    if bias is not None:
        out += bias
    return out.reshape(*x.shape[:-1], weight.shape[1])


def softmax(logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Over the last axis (the ufuncs' reduce: what max and sum call, without their
    wrappers); into `out` where given (of logits' shape, float32)."""
    e = np.subtract(logits, np.maximum.reduce(logits, axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=-1, keepdims=True)
    return e


class Cell:
    """The shared cell's network and its updates (model/cell.py's RecursiveCell)."""

    def __init__(self, w: Weights):
        self.w = w
        self.hidden = len(w.norm)
        self.value, self.slope = _cdf_table()  # built at load (~5 ms), not in the first answer
        self.scratch = Scratch()
        # The up layer kept scaled by 1024 and the down layer by 1/1024, for the
        # GELU's table (gelu): exact, both powers of two, and a multiplication fewer a step.
        self.up, self.up_bias, self.down = w.up * STEPS_PER_UNIT, w.up_bias * STEPS_PER_UNIT, w.down / STEPS_PER_UNIT
        self.wide = len(self.up_bias)
        self.mean_column = np.full((self.hidden, 1), 1.0 / self.hidden, dtype=np.float32)  # a row's mean, as a matmul
        # Both carries as one matmul, z @ [carry | carry_down]: (H, H), or (H, 2H).
        self.carries = w.carry if w.carry_down is None or w.carry is None else np.concatenate([w.carry, w.carry_down], axis=1)
        # What position 0 reads below itself, through the carry, and the top position
        # above itself, through the carry down: constants.
        self.carry_floor = None if w.carry is None else w.carry_in @ w.carry
        self.carry_ceiling = None if w.carry_down is None else w.carry_top @ w.carry_down

    def net(self, u: np.ndarray) -> np.ndarray:
        """rms_norm(u + down(gelu(up(u)))) * norm, gelu's table read inline (as gelu
        reads it, the same numbers): a solve's rows are few, and each numpy call
        counts, not the arithmetic."""
        w = self.w
        flat = u.reshape(-1, self.hidden)
        hidden, fraction, whole, index, out = self.scratch.buffers((len(flat), self.wide))
        if flat.flags.c_contiguous:  # np.dot: matmul's BLAS call, less overhead (see linear)
            np.dot(flat, self.up, hidden)
        else:
            np.matmul(flat, self.up, hidden)
        hidden += self.up_bias
        np.floor(hidden, whole)
        np.subtract(hidden, whole, fraction)  # the fraction of a step, exact
        np.add(whole, OFFSET, index, casting="unsafe")  # exact below 2^24, clipped the same above
        self.slope.take(index, None, out, "clip")
        out *= fraction
        out += self.value.take(index, None, whole, "clip")
        out *= hidden
        out = np.dot(out, self.down)
        out += w.down_bias
        out += flat
        mean_square = np.dot(np.square(out), self.mean_column)  # (R, 1)
        mean_square += EPS
        out /= np.sqrt(mean_square, mean_square)
        out *= w.norm
        return out.reshape(u.shape)

    def with_edges(self, xy: np.ndarray) -> np.ndarray:
        """x + y (R, P, H) with what the grid's edges read through the carries: a
        position below the first, carry_in, and above the top, carry_top (on a
        one-position grid, both); in place."""
        if self.carry_floor is None:
            return xy
        if xy.shape[1] == 1:  # one position: all of xy, as one call
            xy += self.carry_floor
        else:
            xy[:, 0] += self.carry_floor
        if self.carry_ceiling is not None:
            xy[:, -1] += self.carry_ceiling
        return xy

    def latent_step(self, xy: np.ndarray, z: np.ndarray) -> np.ndarray:
        """z = net(x + y + z + carry(z below) [+ carry_down(z above)]); `xy` is
        x + y with the grid's edges (with_edges)."""
        u = xy + z
        if z.shape[1] > 1 and self.carries is not None:
            carried = linear(z, self.carries)  # (R, P, H), or (R, P, 2H) with the carry down
            u[:, 1:] += carried[:, :-1, :self.hidden]
            if self.carry_ceiling is not None:
                u[:, :-1] += carried[:, 1:, self.hidden:]
        return self.net(u)

    def cycle(
        self, x: np.ndarray, y: np.ndarray, z: np.ndarray, inner_steps: int | np.ndarray,
        children: list[np.ndarray], present: list[np.ndarray | None],
    ) -> tuple[np.ndarray, np.ndarray]:
        """One outer cycle (RecursiveCell.cycle): a latent update per child, in order,
        then n latent updates (`inner_steps`: n, or (R,) one per row), then the
        answer update. `present[j]` (R, 1, 1) marks the rows with a child j (None:
        all); the others keep z. Returns the new y and z."""
        xy = self.with_edges(x + y)
        for child, has in zip(children, present):
            budget.check()
            step = self.latent_step(xy + child, z)
            z = step if has is None else np.where(has, step, z)
        if isinstance(inner_steps, np.ndarray) and bool((inner_steps == inner_steps[0]).all()):
            inner_steps = int(inner_steps[0])
        if isinstance(inner_steps, int):
            for _ in range(inner_steps):
                budget.check()
                z = self.latent_step(xy, z)
        else:
            z = np.array(z)  # writable, whatever z was (a broadcast start state)
            for step in range(int(inner_steps.max())):
                budget.check()
                left = np.nonzero(inner_steps > step)[0]
                z[left] = self.latent_step(xy[left], z[left])
        return self.net(y + z), z

    def fold(
        self, own: np.ndarray, children: np.ndarray, present: list[np.ndarray | None],
        answer: Callable[[np.ndarray | None], np.ndarray], same: Prefixes | None = None,
    ) -> np.ndarray | None:
        """The answer scan (RecursiveCell.fold): z after the last child (None: no
        child), each child (`children`: (R, J, P, H), by rank) read by the rows that
        have it (`present[j]`: (R, 1, 1), None: all). `same`: which rows have read the
        same so far, so that one computation serves each group (rows whose own input
        and children up to this one are the same have the same z)."""
        base = own[:, None] + children  # (R, J, P, H): each step's own + child, at once
        z = None
        for j, has in enumerate(present):
            budget.check()
            rows = None if z is None or has is None else np.nonzero(has.reshape(-1))[0]  # None: every row
            shared = None if same is None else same.share(j, np.arange(len(own)) if rows is None else rows)
            if shared is not None:
                one, which = shared  # a row of each group; each row's group
                step = self.net(base[one, j] + answer(None if z is None else z[one]))[which]
            elif rows is None:
                step = self.net(base[:, j] + answer(z))
            else:
                step = self.net(base[rows, j] + answer(z[rows]))
            if rows is None:
                z = step
            else:  # z is this scan's own array (a step's output): updated in place
                z[rows] = step
        return z


class Prefixes(Protocol):
    def share(self, rank: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """For the scan's step at child `rank` over `rows`: a row standing for each
        group that has read the same (its own input and its children up to this
        one), and each row's group; None: compute every row."""
