"""Checks kiln-decompose against the reference evaluator: each composite op
and its decomposition into primitive ops, run by kiln-run in float64 on the
same random inputs, must agree to rounding.

usage: decompose_vs_reference.py --kiln-opt PATH --kiln-run PATH --workdir DIR
"""
import argparse
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
import tensors  # noqa: E402


# An argument is a shape of uniform values in [-1, 1), or a (kind, shape)
# pair: "positive" values in [0.5, 1.5) (variances) or "i64" counts in [0, 5).
def spec(arg):
    return arg if isinstance(arg, tuple) else ("real", arg)


def ty(arg):
    kind, shape = spec(arg)
    element = "i64" if kind == "i64" else "f64"
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


# name: (argument shapes, op text over %arg0..., result shapes)
CASES = {
    "softmax": ([[3, 5, 4]], "kiln.softmax %arg0 {axis = 1 : i64}", [[3, 5, 4]]),
    "log_softmax": ([[6, 7]], "kiln.log_softmax %arg0", [[6, 7]]),
    "softmax_backward": ([[3, 5], [3, 5]],
                         "kiln.softmax_backward %arg0, %arg1 {axis = 0 : i64}", [[3, 5]]),
    "log_softmax_backward": ([[4, 6], [4, 6]],
                             "kiln.log_softmax_backward %arg0, %arg1", [[4, 6]]),
    "layer_norm": ([[2, 3, 8], [8], [8]], "kiln.layer_norm %arg0, %arg1, %arg2", [[2, 3, 8]]),
    "layer_norm_two_axes": ([[2, 3, 4], [3, 4], [3, 4]],
                            "kiln.layer_norm %arg0, %arg1, %arg2 {axis = 1 : i64, epsilon = 1.0e-3 : f64}",
                            [[2, 3, 4]]),
    "layer_norm_plain": ([[5, 6]], "kiln.layer_norm %arg0", [[5, 6]]),
    "layer_norm_backward": ([[2, 3, 8], [2, 3, 8], [8]],
                            "kiln.layer_norm_backward %arg0, %arg1, %arg2",
                            [[2, 3, 8], [8], [8]]),
    "layer_norm_backward_plain": ([[4, 6], [4, 6]],
                                  "kiln.layer_norm_backward %arg0, %arg1", [[4, 6]]),
    "linear": ([[2, 3, 5], [4, 5], [4]], "kiln.linear %arg0, %arg1, %arg2", [[2, 3, 4]]),
    "linear_vector": ([[5], [4, 5]], "kiln.linear %arg0, %arg1", [[4]]),
    "attention": ([[2, 3, 4, 6], [2, 3, 5, 6], [2, 3, 5, 2]],
                  "kiln.attention %arg0, %arg1, %arg2", [[2, 3, 4, 2]]),
    "attention_causal": ([[2, 5, 4], [2, 5, 4], [2, 5, 3]],
                         "kiln.attention %arg0, %arg1, %arg2 {causal = true, scale = 0.3 : f64}",
                         [[2, 5, 3]]),
    "attention_backward": ([[2, 4, 3], [2, 4, 6], [2, 5, 6], [2, 5, 3]],
                           "kiln.attention_backward %arg0, %arg1, %arg2, %arg3",
                           [[2, 4, 6], [2, 5, 6], [2, 5, 3]]),
    "attention_backward_causal": ([[2, 4, 3], [2, 4, 6], [2, 4, 6], [2, 4, 3]],
                                  "kiln.attention_backward %arg0, %arg1, %arg2, %arg3 {causal = true}",
                                  [[2, 4, 6], [2, 4, 6], [2, 4, 3]]),
    # Dropout of the weights at step %arg3 (%arg4), a count in [0, 5).
    "attention_dropout": ([[2, 3, 6, 4], [2, 3, 7, 4], [2, 3, 7, 5], ("i64", [])],
                          "kiln.attention %arg0, %arg1, %arg2, %arg3 "
                          "{dropout = 0.3 : f64, seed = 4 : i64}", [[2, 3, 6, 5]]),
    "attention_backward_dropout": ([[2, 5, 3], [2, 5, 4], [2, 6, 4], [2, 6, 3], ("i64", [])],
                                   "kiln.attention_backward %arg0, %arg1, %arg2, %arg3, %arg4 "
                                   "{causal = true, dropout = 0.5 : f64, seed = 2 : i64}",
                                   [[2, 5, 4], [2, 6, 4], [2, 6, 3]]),
    "batch_norm_eval": ([[5, 2], [2], ("positive", [2]), ("i64", [])],
                        "kiln.batch_norm %arg0, %arg1, %arg2, %arg3 {training = false}",
                        [[5, 2], [2], [2], ("i64", [])]),
    "batch_norm_backward": ([[4, 3, 2, 2], [4, 3, 2, 2], [3]],
                            "kiln.batch_norm_backward %arg0, %arg1, %arg2",
                            [[4, 3, 2, 2], [3], [3]]),
    "batch_norm_backward_plain": ([[5, 2], [5, 2]],
                                  "kiln.batch_norm_backward %arg0, %arg1", [[5, 2]]),
}


def recurrent_cases(op, gates, states):
    """A recurrent layer (lstm: 4 gates, 2 final states; gru: 3 and 1) of 2
    layers and its gradient: input [B, T, I], hidden H."""
    b, t, i, h = 3, 4, 5, 6
    weights = []
    for layer in range(2):
        inputs = i if layer == 0 else h
        weights += [[gates * h, inputs], [gates * h, h], [gates * h], [gates * h]]
    names = ", ".join(f"%arg{k + 1}" for k in range(len(weights)))
    attrs = f"{{hidden_size = {h} : i64, num_layers = 2 : i64}}"
    results = [[b, t, h]] + [[2, b, h]] * states
    CASES[op] = ([[b, t, i]] + weights, f"kiln.{op} %arg0, {names} {attrs}", results)
    # The gradient takes the forward's results as arguments; they only let a
    # backend reuse its forward, so random ones test what matters here.
    args = [[b, t, i]] + results + results + weights
    names = ", ".join(f"%arg{k}" for k in range(len(args)))
    CASES[op + "_backward"] = (args, f"kiln.{op}_backward {names} {attrs}",
                               [[b, t, i]] + weights)


def function(args, op, results):
    params = ", ".join(f"%arg{k}: {ty(s)}" for k, s in enumerate(args))
    types = ", ".join(ty(s) for s in results)
    names = ", ".join(f"%r#{k}" if len(results) > 1 else "%r" for k in range(len(results)))
    head = f"%r:{len(results)}" if len(results) > 1 else "%r"
    return (f"func.func @f({params}) -> ({types}) {{\n"
            f"  {head} = {op} : ({', '.join(ty(s) for s in args)}) -> ({types})\n"
            f"  return {names} : {types}\n}}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln-opt", required=True)
    parser.add_argument("--kiln-run", required=True)
    parser.add_argument("--workdir", required=True)
    a = parser.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    recurrent_cases("lstm", 4, 2)
    recurrent_cases("gru", 3, 1)
    rng = random.Random(7)
    failures = []
    for name, (args, op, results) in CASES.items():
        base = os.path.join(a.workdir, name)
        with open(base + ".mlir", "w") as f:
            f.write(function(args, op, results))
        inputs = {}
        for k, arg in enumerate(args):
            kind, shape = spec(arg)
            count = 1
            for d in shape:
                count *= d
            if kind == "i64":
                inputs[f"arg{k}"] = ("I64", shape, [rng.randrange(5) for _ in range(count)])
            else:
                low = 0.5 if kind == "positive" else -1
                inputs[f"arg{k}"] = ("F64", shape,
                                     [rng.uniform(low, low + 2 - 2 * (low > 0))
                                      for _ in range(count)])
        tensors.write(base + ".in", inputs)
        subprocess.run([a.kiln_opt, "--kiln-decompose", base + ".mlir", "-o",
                        base + ".decomposed.mlir"], check=True)
        for source, out in [(base + ".mlir", base + ".ref"),
                            (base + ".decomposed.mlir", base + ".dec")]:
            subprocess.run([a.kiln_run, source, "-inputs", base + ".in", "-outputs", out,
                            "-precision", "f64"], check=True)
        problems = tensors.compare(tensors.read(base + ".dec"), tensors.read(base + ".ref"),
                                   1e-12, name)
        failures += problems
        print(f"{name}: {'FAIL' if problems else 'ok'}")
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
