"""Training speed by torch thread count, on an idle machine and beside a busy
process, measured in one run: what `--threads`' default is chosen by.

Each measurement is a fresh process (OpenMP's threads are set up once, at torch's
import) that trains a preset's recipe for a few steps, writing nothing, and
reports steps per second after a warm-up. "Busy" runs it while one other process
spins on a core, as a second job or a user's program would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

WARM_UP = 5  # steps not timed: the first steps build caches and the data worker


@dataclass
class ThreadsRow:
    threads: int
    idle_steps_per_s: float
    busy_steps_per_s: float

    @property
    def busy_vs_idle(self) -> float:
        return self.busy_steps_per_s / self.idle_steps_per_s

    def to_json(self) -> dict:
        return {**asdict(self), "busy_vs_idle": round(self.busy_vs_idle, 3)}


_TRAIN = """
import dataclasses, json, sys, time
import torch
from hybrid_trm.training import loop
from hybrid_trm.training.presets import PRESETS

preset, threads, steps, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
config = dataclasses.replace(PRESETS[preset], steps=steps, eval_every=10**9, save_every=10**9, eval_examples=1)
stamps = []
loop.train(config, out, resume=False, on_step=lambda step, metrics: stamps.append(time.perf_counter()))
print(json.dumps((len(stamps) - 1 - {warm}) / (stamps[-1] - stamps[{warm}])))
"""


def steps_per_second(preset: str, threads: int, steps: int, busy: bool) -> float:
    """One fresh training process's steps/s (after WARM_UP steps), alone or beside a spinning one."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        if spinner is not None:
            time.sleep(0.5)  # let it take its core
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            code = _TRAIN.replace("{warm}", str(WARM_UP))
            done = subprocess.run(
                [sys.executable, "-c", code, preset, str(threads), str(steps + WARM_UP + 1), os.path.join(folder, "run")],
                capture_output=True, text=True, env=env, check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"training {preset} on {threads} thread(s) failed: {done.stderr.strip().splitlines()[-1:]}")
        return float(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def threads_table(preset: str, counts: list[int], steps: int, progress=None) -> list[ThreadsRow]:
    """Per thread count: steps/s idle and busy, each a fresh process, in one run."""
    rows = []
    for threads in counts:
        idle = steps_per_second(preset, threads, steps, busy=False)
        busy = steps_per_second(preset, threads, steps, busy=True)
        rows.append(ThreadsRow(threads, idle, busy))
        if progress:
            progress(rows[-1])
    return rows
