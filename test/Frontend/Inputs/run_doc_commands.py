"""Runs the shell blocks of a Markdown page as written, so that a
walkthrough cannot drift from what the tools do.

usage: run_doc_commands.py PAGE SOURCE_ROOT WORKDIR

Each ```sh block runs with bash -e -o pipefail in WORKDIR, in order, where
`examples` is the source tree's; the tools come from PATH. Prints one line
per block and exits 1 at the first that fails, with its output.
"""
import os
import re
import subprocess
import sys


def main():
    page, source, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    link = os.path.join(work, "examples")
    if not os.path.exists(link):
        os.symlink(os.path.join(source, "examples"), link)
    with open(page) as f:
        blocks = re.findall(r"^```sh\n(.*?)^```$", f.read(), re.M | re.S)
    if not blocks:
        sys.exit(f"error: {page} has no sh blocks")
    for n, block in enumerate(blocks, 1):
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block],
                                cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"block {n}: FAILED with exit status {result.returncode}\n{block}")
            print(result.stdout[-3000:] + result.stderr[-3000:])
            sys.exit(1)
        print(f"block {n}: ok")


if __name__ == "__main__":
    main()
