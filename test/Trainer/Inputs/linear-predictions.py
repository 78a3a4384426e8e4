"""The examples and the expected outputs of `kiln-test-trainer predict`, whose
forward is logits = x W^T + b (fc.weight W [4, 64], fc.bias b [4]):

    linear-predictions.py write DIR
        writes 37 examples (two batches of 16 and a partial one of 5) as
        x.npz (x and label), x.npy (x alone), x.safetensors, x.csv (64
        feature columns), and wrong.npz (an array of another name) and
        narrow.npz (x of 32 features);
    linear-predictions.py check CHECKPOINT DIR OUTPUT [--labels]
        checks OUTPUT (.npz, .safetensors, .npy or .csv) against the forward
        computed here from the checkpoint's parameters: logits within 1e-5,
        predictions their argmax.
"""
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "tools", "pylib"))
import kiln_safetensors  # noqa: E402

COUNT, FEATURES, CLASSES = 37, 64, 4


def examples():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((COUNT, FEATURES)).astype(np.float32)
    label = rng.integers(0, CLASSES, COUNT).astype(np.int64)
    return x, label


def write(directory):
    import torch
    x, label = examples()
    np.savez(os.path.join(directory, "x.npz"), x=x, label=label)
    np.save(os.path.join(directory, "x.npy"), x)
    kiln_safetensors.write(os.path.join(directory, "x.safetensors"),
                           {"x": torch.from_numpy(x)})
    with open(os.path.join(directory, "x.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([f"f{i}" for i in range(FEATURES)])
        for row in x:
            writer.writerow([repr(float(v)) for v in row])
    np.savez(os.path.join(directory, "wrong.npz"), features=x)
    np.savez(os.path.join(directory, "narrow.npz"), x=x[:, :32])


def check(checkpoint, directory, output, labels):
    tensors, _ = kiln_safetensors.read(checkpoint)
    weight = tensors["fc.weight"].double().numpy()
    bias = tensors["fc.bias"].double().numpy()
    x, label = examples()
    expected = x.astype(np.float64) @ weight.T + bias
    if output.endswith(".npz"):
        arrays = dict(np.load(output))
    elif output.endswith(".safetensors"):
        read, metadata = kiln_safetensors.read(output)
        arrays = {name: tensor.numpy() for name, tensor in read.items()}
        if metadata.get("model") != "linear":
            sys.exit(f"linear-predictions.py: metadata {metadata}")
    elif output.endswith(".npy"):
        arrays = {"logits": np.load(output)}
    else:
        rows = list(csv.DictReader(open(output)))
        arrays = {
            "logits": np.array([[float(r[f"logits[{j}]"]) for j in range(CLASSES)]
                                for r in rows], np.float32),
            "predictions": np.array([int(r["prediction"]) for r in rows]),
        }
        if [int(r["index"]) for r in rows] != list(range(len(rows))):
            sys.exit("linear-predictions.py: the CSV's indices are not 0, 1, ...")
    logits = arrays["logits"]
    if logits.dtype != np.float32 or logits.shape != (COUNT, CLASSES):
        sys.exit(f"linear-predictions.py: logits {logits.dtype}{logits.shape}")
    if np.abs(logits - expected).max() > 1e-5 * np.abs(expected).max():
        sys.exit(f"linear-predictions.py: logits differ by "
                 f"{np.abs(logits - expected).max()}")
    if "predictions" in arrays and not np.array_equal(
            arrays["predictions"], logits.argmax(axis=1)):
        sys.exit("linear-predictions.py: the predictions are not the argmax")
    if labels:
        correct = int((logits.argmax(axis=1) == label).sum())
        print(f"accuracy {correct / COUNT:.4f} ({correct}/{COUNT})")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4], "--labels" in sys.argv)
