"""The recursive cell's network in numpy (hybrid_trm/runtime/cell.py) against the
same network as an ONNX graph run by onnxruntime: the measurement behind the
runtime's choice of numpy alone. Not part of the package; needs
`pip install onnx onnxruntime`.

    OMP_NUM_THREADS=1 python benchmarks/cell_onnxruntime.py [--model arith/mod10]

For each row count (1, 6, 50, 300: a solve's small upper levels to a wide leaf
level): µs per call of one network step (up, GELU, down, residual, RMS norm), and
of nine steps in a row (one level of arith/exact: 2 children + 6 inner steps +
the answer) as nine numpy calls and as one ONNX graph of nine steps; the largest
difference between the two; and what importing onnxruntime costs a process.
ONNX opset 23 (Gelu, RMSNormalization), one thread, the CPU provider.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np


def graph(w, steps: int):
    """An ONNX model of `steps` network steps in a row, u (R, H) -> out (R, H)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, current = [], "u"
    for i in range(steps):
        p, out = f"s{i}_", "out" if i == steps - 1 else f"z{i}"
        nodes += [
            helper.make_node("MatMul", [current, "up"], [p + "a"]), helper.make_node("Add", [p + "a", "up_bias"], [p + "b"]),
            helper.make_node("Gelu", [p + "b"], [p + "c"]),
            helper.make_node("MatMul", [p + "c", "down"], [p + "d"]), helper.make_node("Add", [p + "d", "down_bias"], [p + "e"]),
            helper.make_node("Add", [p + "e", current], [p + "f"]),
            helper.make_node("RMSNormalization", [p + "f", "norm"], [out], axis=-1, epsilon=1e-6),
        ]
        current = out
    h = len(w.norm)
    weights = {"up": w.up, "up_bias": w.up_bias, "down": w.down, "down_bias": w.down_bias, "norm": w.norm}
    model = helper.make_model(
        helper.make_graph(
            nodes, "cell", [helper.make_tensor_value_info("u", TensorProto.FLOAT, ["R", h])],
            [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["R", h])],
            [numpy_helper.from_array(v, k) for k, v in weights.items()],
        ),
        opset_imports=[helper.make_opsetid("", 23)],
    )
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def session(model):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def best_us(call, n: int) -> float:
    """µs per call: the best of five runs of n calls (another process shares the machine)."""
    for _ in range(10):
        call()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            call()
        times.append((time.perf_counter() - start) / n)
    return 1e6 * min(times)


def import_cost() -> dict:
    """Seconds and resident MB (VmRSS, now: a forked child's peak would count this
    process's pages) of a fresh process importing numpy, then onnxruntime."""
    code = (
        "import time; t = time.perf_counter(); import numpy; a = time.perf_counter() - t\n"
        "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
        "m = rss(); t = time.perf_counter(); import onnxruntime; print(a, time.perf_counter() - t, m, rss())"
    )
    numpy_s, ort_s, before, after = map(float, subprocess.check_output([sys.executable, "-c", code]).split())
    return {"numpy_import_s": numpy_s, "onnxruntime_import_s": ort_s, "mb_with_numpy": before, "mb_with_onnxruntime": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="arith/mod10", help="A shipped model as domain/task (its cell's weights).")
    args = parser.parse_args()
    imports = import_cost()  # before this process grows
    from hybrid_trm.runtime.loading import load

    cell = load(args.model).model.cell
    one, nine = session(graph(cell.w, 1)), session(graph(cell.w, 9))
    rng = np.random.default_rng(0)
    rows_out = []
    for rows in (1, 6, 50, 300):
        u = rng.standard_normal((rows, 1, cell.hidden), dtype=np.float32)
        flat = u.reshape(rows, -1)

        def numpy_nine(z=u):
            for _ in range(9):
                z = cell.net(z)
            return z

        difference = float(np.abs(nine.run(None, {"u": flat})[0] - numpy_nine().reshape(rows, -1)).max())
        n = max(20, 2000 // rows)
        rows_out.append({
            "rows": rows, "numpy_step_us": best_us(lambda: cell.net(u), n), "onnxruntime_step_us": best_us(lambda: one.run(None, {"u": flat}), n),
            "numpy_9_steps_us": best_us(numpy_nine, n // 4 or 1), "onnxruntime_9_steps_us": best_us(lambda: nine.run(None, {"u": flat}), n // 4 or 1),
            "max_difference_9_steps": difference,
        })
    print(json.dumps({"model": args.model, "opset": 23, "cell": rows_out, "imports": imports}, indent=1))


if __name__ == "__main__":
    main()
