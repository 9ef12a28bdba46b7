"""Training on several processes: `torchrun -m hybrid_trm train` with 2 gloo ranks on
CPU trains the model one process trains at the same global batch, and a run moves
between 1 and 2 ranks at a checkpoint.

Tolerance: 1e-6 on every tensor of the checkpoint (EMA and raw weights, AdamW's
moments). Two ranks add up the same numbers as one process in another order (each
rank sums the gradient over its share of the batch, then gloo adds the two sums),
so float32 rounding differs in the last bits: measured 6e-8 on weights of order 1
after 4 steps. Averaging the ranks' own mean losses instead (what DDP does with a
loss that is a mean over a rank's nodes) is off by 5e-3, which 1e-6 catches.

That the two ranks end with the same weights, bit for bit, the run itself checks
before every save (distributed.same_everywhere, which the last test shows to see
one ulp of difference): a run whose ranks differ fails instead of writing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

from hybrid_trm import checkpoints
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.training.distributed import Ranks, check_batch, same_everywhere
from hybrid_trm.training.loop import GeneratedBatches, TrainConfig, train

# --lr 0.1: warmup (200 steps) keeps the first steps' rate at lr x step / 200; a
# large peak makes 4 steps move the weights far more than the tolerance.
ARGS = ["arith", "--task", "mod10", "--batch-size", "8", "--hidden", "16", "--lr", "0.1"]
CONFIG = dict(domain="arith", task="mod10", batch_size=8, hidden=16, lr=0.1, eval_examples=8)
TOLERANCE = 1e-6


def torchrun(out, steps: int) -> subprocess.CompletedProcess:
    """`hybrid-trm train` as torchrun runs it: 2 ranks on this machine, a free port."""
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "hybrid_trm", "train", *ARGS, "--steps", str(steps), "--out", str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def assert_same_run(ours, reference) -> None:
    """Every tensor of the two checkpoints within TOLERANCE, at the same step."""
    (mine, my_config), (theirs, their_config) = checkpoints.load(ours), checkpoints.load(reference)
    assert my_config["step"] == their_config["step"]
    assert set(mine) == set(theirs)
    for name in theirs:
        torch.testing.assert_close(mine[name], theirs[name], rtol=0, atol=TOLERANCE, msg=lambda m, name=name: f"{name}: {m}")
    assert my_config["metrics"]["loss"] == pytest.approx(their_config["metrics"]["loss"], abs=1e-5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process: 2 steps, then resumed to 4 (test_checkpoints: the same as 4 at
    once). Two ranks: 2 steps from scratch; and 2 steps more from one process's
    checkpoint at step 2."""
    root = tmp_path_factory.mktemp("distributed")
    train(TrainConfig(steps=2, **CONFIG), root / "one")
    for f in checkpoints.files(root / "one"):
        shutil.copy(f, root / f.name.replace("one", "one-then-two"))
        shutil.copy(f, root / f.name.replace("one", "one-at-2"))
    train(TrainConfig(steps=4, **CONFIG), root / "one")
    scratch = torchrun(root / "two", 2)
    resumed = torchrun(root / "one-then-two", 4)
    return root, scratch, resumed


def test_two_ranks_train_what_one_process_trains(runs):
    root, scratch, _ = runs
    assert_same_run(root / "two", root / "one-at-2")
    assert checkpoints.load(root / "two")[1]["metrics"]["ranks"] == 2


def test_a_run_moves_between_one_process_and_two_ranks(runs):
    root, *_ = runs
    assert_same_run(root / "one-then-two", root / "one")
    for f in checkpoints.files(root / "two"):
        shutil.copy(f, root / f.name.replace("two", "two-then-one"))
    train(TrainConfig(steps=4, **CONFIG), root / "two-then-one")
    assert_same_run(root / "two-then-one", root / "one")


def test_rank_zero_alone_reports(runs):
    _, scratch, resumed = runs
    for result in (scratch, resumed):
        assert result.stdout.count("checkpoint ") == 1, result.stdout
        assert "Traceback" not in result.stderr


def test_the_ranks_share_each_batch_without_overlap():
    """Rank r of N takes examples r, r+N, ... of the global batch: together the ranks
    hold exactly the trees one process does."""
    config = TrainConfig(steps=1, **CONFIG)
    whole = next(iter(GeneratedBatches(config, 3)))
    shares = [next(iter(GeneratedBatches(config, 3, ranks=Ranks(r, 2)))) for r in range(2)]
    assert [len(s.roots) for s in shares] == [4, 4]
    assert sum(s.nodes for s in shares) == whole.nodes
    kinds = sorted(torch.cat([s.kind for s in shares]).tolist())
    assert kinds == sorted(whole.kind.tolist())


def test_a_batch_the_ranks_cannot_share_is_refused(cli, monkeypatch):
    with pytest.raises(HybridTRMError, match="does not split over 3 ranks"):
        check_batch(8, Ranks(0, 3))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    result = cli("train", "arith", "--batch-size", "5", "--steps", "1")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "error: --batch-size 5 does not split over 2 ranks: pass a multiple of 2"


def _compare(rank: int, rendezvous: str, out: str) -> None:
    """One of two gloo ranks: whether equal tensors, then tensors one ulp apart,
    read as the same everywhere."""
    torch.distributed.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=2)
    ranks = Ranks(rank, 2)
    equal = same_everywhere([torch.ones(3), torch.tensor(7)], ranks)
    apart = same_everywhere([torch.ones(3), torch.tensor([1.0 + rank * 2**-23])], ranks)
    torch.distributed.destroy_process_group()
    with open(f"{out}.{rank}", "w") as f:
        f.write(f"{equal} {apart}")


def test_the_ranks_agreement_check_sees_one_ulp(tmp_path):
    """What makes a run refuse to write weights its ranks disagree on."""
    torch.multiprocessing.spawn(_compare, args=(str(tmp_path / "rendezvous"), str(tmp_path / "seen")), nprocs=2)
    assert [(tmp_path / f"seen.{r}").read_text() for r in range(2)] == ["True False"] * 2
