"""Checks that `trainer predict` reports the accuracy that the training run
reported for the same test set, count for count:

    same-accuracy.py TRAIN_STDOUT PREDICT_STDOUT
"""
import re
import sys

trained = re.search(r"test accuracy [0-9.]+ \(([0-9]+)/([0-9]+)\)",
                    open(sys.argv[1]).read())
predicted = re.search(r"accuracy [0-9.]+ \(([0-9]+)/([0-9]+)\)",
                      open(sys.argv[2]).read())
if not trained or not predicted:
    sys.exit(f"same-accuracy.py: no accuracy in "
             f"{sys.argv[1] if not trained else sys.argv[2]}")
if trained.groups() != predicted.groups():
    sys.exit(f"same-accuracy.py: the trainer counted {trained.group(1)}/"
             f"{trained.group(2)} correct, predict {predicted.group(1)}/"
             f"{predicted.group(2)}")
