"""Training one model on several processes: torchrun's ranks, joined by
DistributedDataParallel (training/loop.py is the loop; this is what it asks of them).

`torchrun --nproc-per-node N -m hybrid_trm train ...` starts N copies of the command
with WORLD_SIZE, RANK and LOCAL_RANK set; each copy reads them here (Ranks), joins
the process group (gloo on CPU, NCCL with `--device cuda`, each rank on its GPU
LOCAL_RANK: rank_device) and trains on its share of
every step's batch: of the global batch of `batch_size` examples, which is the same
whatever the number of ranks, rank r takes examples r, r+N, r+2N, ... Each rank's
loss is made from the terms of the model's loss (Output.loss_terms: means, each with
the number of items it averages) over the whole batch's counts, so that the
gradient DDP averages is the gradient of the global batch's loss, as one process
would compute it; only the order of float sums differs. Every rank then holds the
same gradient, takes the same AdamW step and updates the same EMA. Rank 0 alone
evaluates, writes checkpoints and reports; a checkpoint holds no per-rank state, so
a run resumes on any number of ranks. Every rank reads the checkpoint to resume: on
several machines, --out is on a filesystem they share.

A halting model (ModelConfig.halting) matches one process in distribution only:
each rank draws its own exploration, and weighs the outer cycles its own nodes ran.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ..errors import HybridTRMError


@dataclass(frozen=True)
class Ranks:
    rank: int = 0  # this process among all of them
    size: int = 1  # how many processes train the model (torchrun's WORLD_SIZE)
    local: int = 0  # this process among those of its machine: its GPU, on CUDA

    @property
    def lead(self) -> bool:
        """Whether this process evaluates, writes checkpoints and reports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def from_environment() -> Ranks:
    """This process's place among torchrun's (one process, rank 0, when not launched by it)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return Ranks()
    return Ranks(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def check_batch(batch_size: int, ranks: Ranks) -> None:
    """Refuse a global batch the ranks cannot share equally (a rank with one example
    more would weigh it as one process does not)."""
    if batch_size % ranks.size:
        raise HybridTRMError(
            f"--batch-size {batch_size} does not split over {ranks.size} ranks: pass a multiple of {ranks.size}"
        )


def rank_device(name: str | None, ranks: Ranks) -> torch.device:
    """The device this process trains on: `name` resolved (devices.py: cpu by
    default); under torchrun on CUDA, the GPU of this rank's LOCAL_RANK, one GPU
    per process (CUDA_VISIBLE_DEVICES chooses which GPUs a machine lends)."""
    from .. import devices

    device = devices.resolve(name)
    if not ranks.distributed or device.type == "cpu":
        return device
    if device.type != "cuda":
        raise HybridTRMError(
            f"torchrun trains on cpu (gloo) or cuda (NCCL); {device.type} has no process group: pass --device cpu or cuda"
        )
    if ":" in devices.checked_name(name):
        raise HybridTRMError(
            f"under torchrun each rank trains on the GPU of its LOCAL_RANK; pass --device cuda, not {name} "
            "(CUDA_VISIBLE_DEVICES chooses the GPUs)"
        )
    count = torch.cuda.device_count()
    if ranks.local >= count:
        raise HybridTRMError(
            f"rank {ranks.rank} is LOCAL_RANK {ranks.local}, but this machine has {count} CUDA GPU(s): "
            f"start at most {count} processes per machine (--nproc-per-node {count})"
        )
    return torch.device("cuda", ranks.local)


def start(ranks: Ranks, device: torch.device) -> None:
    """Join the process group, once: NCCL for a model on CUDA (each rank on its
    machine's GPU LOCAL_RANK), gloo on CPU. Torchrun's MASTER_ADDR and MASTER_PORT
    say where to meet."""
    if not ranks.distributed or torch.distributed.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(ranks.local)
    backend = "nccl" if device.type == "cuda" else "gloo"
    torch.distributed.init_process_group(backend, rank=ranks.rank, world_size=ranks.size)


def stop(ranks: Ranks) -> None:
    if ranks.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def wrap(model: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    """The model as the training step calls it: under DDP when distributed, which
    starts every rank from rank 0's weights and averages the gradients in backward.
    find_unused_parameters: which weights a batch reaches depends on the batch (a
    share of leaves alone never reaches the children's weights; a domain without
    prefix labels never reaches the prefix head), and may differ between ranks."""
    if not ranks.distributed:
        return model
    ids = [ranks.local] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)


def global_loss(terms: list[tuple[torch.Tensor, torch.Tensor]], ranks: Ranks) -> tuple[torch.Tensor, float]:
    """This rank's loss to backpropagate, and the global batch's loss value.

    The loss is a sum of means, term k averaging count_k items. Over the global
    batch, term k is the sum of every rank's items over the total count; DDP
    averages the ranks' gradients (divides by their number), so each rank
    backpropagates size x (its mean x its count) / total count per term. One
    all-reduce carries the counts and the sums (for the value reported)."""
    means = [mean for mean, _ in terms]
    counts = torch.stack([count.to(torch.float64) for _, count in terms])
    sums = torch.stack([mean.detach().to(torch.float64) for mean in means]) * counts
    together = torch.cat([counts, sums])
    torch.distributed.all_reduce(together)
    total, total_sums = together.split(len(terms))
    total = total.clamp(min=1)  # a term no rank has items for is 0 everywhere
    weights = (ranks.size * counts / total).to(means[0].dtype).to(means[0].device)
    loss = sum(mean * weight for mean, weight in zip(means, weights))
    return loss, float((total_sums / total).sum())


def lead_says(flag: bool, ranks: Ranks) -> bool:
    """Rank 0's decision, on every rank (whether the curriculum moves up: rank 0
    alone evaluates)."""
    if not ranks.distributed:
        return flag
    decision = [flag]
    torch.distributed.broadcast_object_list(decision, src=0)
    return bool(decision[0])


def same_everywhere(tensors: list[torch.Tensor], ranks: Ranks) -> bool:
    """Whether every rank holds these tensors, bit for bit (the step a run resumes
    from; the weights, EMA and optimizer moments, which DDP's shared gradients keep
    equal). Every rank must pass tensors of the same sizes."""
    if not ranks.distributed:
        return True
    flat = torch.cat([t.detach().reshape(-1).to(torch.float64) for t in tensors])
    high, low = flat.clone(), flat.clone()
    torch.distributed.all_reduce(high, op=torch.distributed.ReduceOp.MAX)
    torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)
    return bool(torch.equal(high, low))
