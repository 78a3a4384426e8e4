"""Runs a command (an mpirun of a data-parallel trainer), kills one of its
ranks with SIGKILL and checks that the whole run ends soon after.

usage: kill-rank.py PIDFILE SECONDS COMMAND [ARGUMENT...]

The rank to kill writes its process id to PIDFILE when it starts; SECONDS
after that, it is killed. Prints how long the run took to end after the
kill, and fails when the run ended with status 0 or took more than 10 s (or
did not start the rank within 60 s).
"""

import os
import signal
import subprocess
import sys
import time

pidfile, seconds, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
run = subprocess.Popen(command)
deadline = time.monotonic() + 60
while not os.path.exists(pidfile) or not open(pidfile).read().strip():
    if run.poll() is not None or time.monotonic() > deadline:
        run.kill()
        sys.exit(f"kill-rank.py: the rank never wrote {pidfile}")
    time.sleep(0.05)
time.sleep(seconds)
if run.poll() is not None:
    sys.exit(f"kill-rank.py: the run ended (status {run.returncode}) before "
             "the kill; make it longer")
os.kill(int(open(pidfile).read()), signal.SIGKILL)
killed = time.monotonic()
try:
    status = run.wait(timeout=30)
except subprocess.TimeoutExpired:
    run.kill()
    sys.exit("kill-rank.py: the run still runs 30 s after the kill (a hang)")
took = time.monotonic() - killed
print(f"kill-rank.py: the run ended {took:.1f} s after the kill, status "
      f"{status}", flush=True)
if status == 0:
    sys.exit("kill-rank.py: the run succeeded although a rank was killed")
if took > 10:
    sys.exit("kill-rank.py: the run took more than 10 s to end")
