#!/usr/bin/python3
"""PyTorch's side of `trainer predict` for the examples (cnn, resnet on
Fashion-MNIST; lstm, gru, transformer on the word-language task):

    /usr/bin/python3 predict_torch.py export MODEL OUT.npz
        writes the example's test split as the arrays its inputs take by
        name (image u8 + label, or chars + language), read by the same rules
        as train_torch.py;
    /usr/bin/python3 predict_torch.py check MODEL --checkpoint CK
        --inputs IN.npz --outputs OUT.npz [--rtol 1e-5] [--accuracy-of LOG]
        [--precision f32|bf16-rounded]
        loads the checkpoint's parameters and buffers into PyTorch's module
        (strictly: every one, nothing else but optimizer state), runs its
        forward in evaluation mode on IN's inputs, and fails unless the
        logits that predict wrote in OUT agree within rtol (the largest
        difference relative to the largest logit), OUT's predictions are the
        logits' argmax, and, with --accuracy-of, they are right as often as
        the trainer's output LOG says ("test accuracy 0.8 (8000/10000)").
        With --precision bf16-rounded (a model compiled with precision =
        bf16), the forward rounds as Kiln's mixed precision does
        (train_torch.round_as_kiln), and instead of rtol: at most 0.1% of
        the logits may differ (where a rounding went the other way after a
        sum in another order, by a bfloat16 step or two); a float32 model
        differs in all of them.

Needs Debian's python3-torch (run it with /usr/bin/python3).
"""
import argparse
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "pylib"))
import kiln_safetensors  # noqa: E402
import train_torch  # noqa: E402
# The example's module, by name, as train_torch.py trains it.
MODELS = {name: entry[0] for name, entry in train_torch.MODELS.items()}
IMAGE_MODELS = ("cnn", "resnet")


def export(model, path):
    if model in IMAGE_MODELS:
        pixels = train_torch.read_idx(
            f"{train_torch.FASHION_DIR}/t10k-images-idx3-ubyte.gz")
        labels = train_torch.read_idx(
            f"{train_torch.FASHION_DIR}/t10k-labels-idx1-ubyte.gz")
        np.savez(path, image=pixels, label=labels.astype(np.int64))
    else:
        _, _, chars, language = train_torch.wordlang()
        np.savez(path, chars=chars.numpy(), language=language.numpy())


def torch_inputs(model, arrays):
    if model in IMAGE_MODELS:
        # The recipe's scale: pixel * (1 / 255) in double, rounded once.
        images = (arrays["image"].astype(np.float64) * (1 / 255)).astype(np.float32)
        return torch.from_numpy(images).unsqueeze(1)
    return torch.from_numpy(arrays["chars"])


def check(args):
    arrays = np.load(args.inputs)
    outputs = np.load(args.outputs)
    module = MODELS[args.model]()
    tensors, _ = kiln_safetensors.read(args.checkpoint)
    module.load_state_dict(kiln_safetensors.state_dict(tensors, module))
    module.eval()
    if args.precision == "bf16-rounded":
        train_torch.round_as_kiln(module)
    with torch.no_grad():
        expected = module(torch_inputs(args.model, arrays)).numpy()
    logits = outputs["logits"]
    if logits.shape != expected.shape:
        sys.exit(f"predict_torch.py: logits {logits.shape}, PyTorch's {expected.shape}")
    difference = np.abs(logits.astype(np.float64) - expected)
    scale = np.abs(expected).max()
    relative = difference.max() / scale
    print(f"{args.model}: {len(logits)} examples, largest logit {scale:.4g}, "
          f"largest difference {difference.max():.3g} ({relative:.3g} of it)")
    failures = []
    if args.precision == "bf16-rounded":
        differ = difference > 0
        steps = difference[differ] / np.abs(expected[differ])
        print(f"{args.model}: {differ.sum()} of {differ.size} logits differ, "
              f"by at most {steps.max() if differ.any() else 0:.3g} relative")
        if differ.mean() > 1e-3:
            failures.append("more than 0.1% of the logits differ")
    elif relative > args.rtol:
        failures.append(f"the logits differ by {relative:.3g} of the largest, "
                        f"more than {args.rtol:g}")
    predictions = outputs["predictions"]
    if not np.array_equal(predictions, logits.argmax(axis=-1)):
        failures.append("the predictions are not the argmax of the logits")
    labels = arrays["label" if args.model in IMAGE_MODELS else "language"]
    correct = int((predictions == labels).sum())
    torch_correct = int((expected.argmax(axis=-1) == labels).sum())
    print(f"{args.model}: accuracy of predict {correct}/{len(labels)}, "
          f"of PyTorch's forward {torch_correct}/{len(labels)}")
    if args.accuracy_of:
        reported = re.search(r"test accuracy [0-9.]+ \(([0-9]+)/",
                             open(args.accuracy_of).read())
        if not reported:
            failures.append(f"{args.accuracy_of} reports no test accuracy")
        elif int(reported.group(1)) != correct:
            failures.append(f"predict's {correct} correct differ from the "
                            f"trainer's {reported.group(1)}")
    if failures:
        sys.exit("predict_torch.py: error: " + "; ".join(failures))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export")
    exporting.add_argument("model", choices=MODELS)
    exporting.add_argument("out")
    checking = commands.add_parser("check")
    checking.add_argument("model", choices=MODELS)
    checking.add_argument("--checkpoint", required=True)
    checking.add_argument("--inputs", required=True)
    checking.add_argument("--outputs", required=True)
    checking.add_argument("--rtol", type=float, default=1e-5)
    checking.add_argument("--precision", choices=["f32", "bf16-rounded"],
                          default="f32")
    checking.add_argument("--accuracy-of",
                          help="the trainer's output, which reports its test "
                               "accuracy")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.command == "export":
        export(args.model, args.out)
    else:
        check(args)


if __name__ == "__main__":
    main()
