"""Checks that a language model trained by a text(...) trainer beats the
unigram entropy of its corpus.

usage: check-text-loss.py --corpus FILE --length T [--test-fraction F]
                          --out OUT --err ERR --metrics FILE
                          [--steps N] [--margin M]

The corpus is read here as the trainer's text(..., vocab: "bytes") reads it:
the last floor(F * size) bytes are the test part, the rest the training part,
each cut into windows of T tokens and the token after them. From it this
script computes the unigram entropy of the training bytes (in nats), how many
byte values occur in them and the windows of each part, and checks them
against the trainer's notes on stderr (ERR):

  vocabulary: 256 byte values (N occur in the training text); unigram entropy
  of the training text X nats/token
  examples: windows of T tokens, W for training (...), V for test (...)

(X to the 3 decimals printed). It then checks the final result on stdout
(OUT), "test loss L (V examples)", against the last evaluation of the
--metrics file (same loss to the 4 printed decimals), that the metrics hold
--steps updates when given, and that L is below the computed entropy by at
least --margin nats (default 0.5): a model that ignored the context could at
best reach the entropy, and an untrained one is near log 256 = 5.55.
"""

import argparse
import json
import math
import re
import sys


def fail(message):
    print(f"check-text-loss.py: {message}", file=sys.stderr)
    sys.exit(1)


parser = argparse.ArgumentParser()
parser.add_argument("--corpus", required=True)
parser.add_argument("--length", type=int, required=True)
parser.add_argument("--test-fraction", type=float, default=0.05)
parser.add_argument("--out", required=True)
parser.add_argument("--err", required=True)
parser.add_argument("--metrics", required=True)
parser.add_argument("--steps", type=int)
parser.add_argument("--margin", type=float, default=0.5)
args = parser.parse_args()

# The reference figures, from the corpus itself.
with open(args.corpus, "rb") as corpus:
    data = corpus.read()
test_tokens = math.floor(args.test_fraction * len(data))
train = data[: len(data) - test_tokens]
counts = [0] * 256
for byte in train:
    counts[byte] += 1
entropy = -sum(c / len(train) * math.log(c / len(train)) for c in counts if c)
occurring = sum(1 for c in counts if c)
train_windows = (len(train) - 1) // args.length
test_windows = max(test_tokens - 1, 0) // args.length

with open(args.err) as err_file:
    err = err_file.read()
note = re.search(r"^vocabulary: 256 byte values \((\d+) occur in the training "
                 r"text\); unigram entropy of the training text (\d+\.\d{3}) "
                 r"nats/token$", err, re.M)
if not note:
    fail("the trainer printed no vocabulary note")
if int(note.group(1)) != occurring:
    fail(f"the trainer says {note.group(1)} byte values occur in the training "
         f"text, the corpus has {occurring}")
if abs(float(note.group(2)) - entropy) > 0.0005:
    fail(f"the trainer says the unigram entropy is {note.group(2)} nats/token, "
         f"the corpus gives {entropy:.6f}")
windows = re.search(rf"^examples: windows of {args.length} tokens, (\d+) for "
                    rf"training \(from (\d+) tokens\), (\d+) for test \(from "
                    rf"(\d+) tokens, ", err, re.M)
if not windows:
    fail("the trainer printed no examples note")
found = tuple(int(windows.group(k)) for k in range(1, 5))
expected = (train_windows, len(train), test_windows, test_tokens)
if found != expected:
    fail(f"the trainer's windows and tokens (training, test) are {found}, "
         f"the corpus gives {expected}")

with open(args.out) as out_file:
    out = out_file.read()
result = re.fullmatch(r"test loss (\d+\.\d{4}) \((\d+) examples\)\n", out)
if not result:
    fail(f"stdout is not 'test loss L (N examples)': {out!r}")
loss = float(result.group(1))
if int(result.group(2)) != test_windows:
    fail(f"the result counts {result.group(2)} test examples, the corpus has "
         f"{test_windows} test windows")

steps, evals = 0, []
with open(args.metrics) as metrics:
    for line in metrics:
        record = json.loads(line)
        if "accuracy" in record:
            evals.append(record)
        else:
            steps += 1
if not evals:
    fail("the metrics file holds no evaluation")
if abs(evals[-1]["loss"] - loss) > 0.00005:
    fail(f"the last evaluation's loss {evals[-1]['loss']} is not stdout's "
         f"{loss}")
if args.steps is not None and steps != args.steps:
    fail(f"the metrics file holds {steps} updates, not {args.steps}")
if not loss < entropy - args.margin:
    fail(f"test loss {loss:.4f} is not below the unigram entropy "
         f"{entropy:.4f} by {args.margin} nats")
print(f"test loss {loss:.4f} < unigram entropy {entropy:.4f} - {args.margin} "
      f"after {steps} updates")
