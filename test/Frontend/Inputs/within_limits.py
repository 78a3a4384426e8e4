"""Runs a command with a bound on its CPU time and reports its peak memory.

usage: within_limits.py MAX_CPU_SECONDS MAX_MEGABYTES -- COMMAND...

Exits with the command's status after printing its stderr; fails when the
command used more CPU time (the kernel stops it) or more resident memory than
given. CPU time, unlike wall time, does not depend on what else the machine
runs, so the bound cannot fail a correct compiler on a busy machine.
"""
import resource
import subprocess
import sys

cpu, megabytes = int(sys.argv[1]), int(sys.argv[2])
command = sys.argv[sys.argv.index("--") + 1:]


def limit():
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


run = subprocess.run(command, preexec_fn=limit, stderr=subprocess.PIPE, text=True)
sys.stderr.write(run.stderr)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if run.returncode < 0:
    sys.exit(f"within_limits: {command[0]} was stopped by signal {-run.returncode} "
             f"(more than {cpu} s of CPU time?)")
if peak > megabytes:
    sys.exit(f"within_limits: {command[0]} used {peak:.0f} MB, more than {megabytes} MB")
print(f"within_limits: peak {peak:.0f} MB")
sys.exit(run.returncode)
