"""The measurements behind `hybrid-trm bench`, one module per kind:
`speed` (nodes/s and latency by path and stage, the cell against the matmul
peak), `logic` (the logic models against the symbolic verifier, per family of
formulas), `accuracy` (the recursive model
against baselines of its size, in and beyond the training depth), `training`
(halting against a fixed depth, a curriculum against uniform sampling, the
meta-level's cell against training from scratch) and `device` (training and
eval speed on the CPU and on an accelerator)."""
