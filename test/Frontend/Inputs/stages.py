"""What the stage comparisons share: running a tool, and stopping at the
first difference with the first differing lines."""
import difflib
import subprocess
import sys


def run(command, stdin=None):
    """The standard output of `command`; exits with its errors if it fails."""
    result = subprocess.run(command, input=stdin, capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def require_equal(expected, actual, expected_name, actual_name, label):
    """Exits 1 after printing `label: DIFFERENT` and the start of the diff
    when the two texts differ."""
    if actual == expected:
        return
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                expected_name, actual_name, lineterm="", n=1)
    print(f"{label}: DIFFERENT")
    print("\n".join(list(diff)[:20]))
    sys.exit(1)
