"""Checks that examples/infer/classify.c printed the logits that `trainer
predict` wrote to a CSV file, bit for bit (both print floats with 9
significant digits, which tell every float apart), for every image:

    same-logits.py CLASSIFY_OUTPUT PREDICTED.csv COUNT
"""
import csv
import sys

rows = {row["name"]: row for row in csv.DictReader(open(sys.argv[2]))}
lines = open(sys.argv[1]).read().splitlines()
if len(lines) != int(sys.argv[3]) or len(rows) != len(lines):
    sys.exit(f"same-logits.py: {len(lines)} images classified, {len(rows)} "
             f"predicted, {sys.argv[3]} expected")
for line in lines:
    path, label, rest = line.split(" ", 2)
    logits = rest.split(" ")[-10:]
    name = next((n for n in rows if path.endswith("/" + n)), None)
    if name is None:
        sys.exit(f"same-logits.py: {path} was not predicted")
    predicted = [rows[name][f"logits[{j}]"] for j in range(10)]
    if [float(x) for x in logits] != [float(x) for x in predicted] or \
            rows[name]["prediction"] != label:
        sys.exit(f"same-logits.py: {name}: classify {label} {logits}, "
                 f"predict {rows[name]['prediction']} {predicted}")
