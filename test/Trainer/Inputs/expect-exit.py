"""Runs a command and succeeds when it ends with the given exit status.

usage: expect-exit.py STATUS|SIGKILL COMMAND [ARGUMENT...]

lit's `not` only tells zero from non-zero, but a trainer's status also says
what went wrong (1: data or files, 2: flags), and a crash test needs to see
the signal that ended it.
"""

import signal
import subprocess
import sys

expected = sys.argv[1]
want = -signal.SIGKILL if expected == "SIGKILL" else int(expected)
status = subprocess.run(sys.argv[2:]).returncode
if status != want:
    print(f"expect-exit.py: expected exit status {expected}, got {status}",
          file=sys.stderr)
    sys.exit(1)
