#!/usr/bin/python3
"""Trains on a 4 GB .npy file and prints the trainer's peak resident memory.

    /usr/bin/python3 bench/data/large_file.py [DIR] [--build build]
        [--examples N] [--max-steps N] [--threads 2] [--cold] [--keep]

The benchmark of issue 10's "a 4 GB .npy training file trains with the
trainer's resident memory under 1 GB" (a benchmark, not a timed test):

1. writes DIR/train/image.npy (uint8 [N, 1, 28, 28], by default N = 5,480,000:
   4.30 GB, 4.0 GiB) and DIR/train/label.npy (int64 [N]), Fashion-MNIST's
   60000 training examples repeated in order, and DIR/test/ (its 10000 test
   examples), after checking the free space with shutil.disk_usage (df); files
   kept by an earlier --keep run of the same N are reused;
2. compiles bench/data/large_mlp.kiln, which reads
   tensors(train: "train", test: "test", scale: 1 / 255), and runs its trainer
   with --data DIR for --max-steps steps (4000 by default: 1,024,000
   examples drawn in shuffled order, random reads spread over the whole
   file; about 20 s on an idle 2-core machine) or, with --max-steps 0, one
   whole epoch (21406 steps, every example once);
3. measures the trainer's peak resident set: "Maximum resident set size" of
   /usr/bin/time -v (the kernel's ru_maxrss of the trainer), and, polled
   from /proc/PID/status every 20 ms, the peaks of its anonymous and
   file-backed parts;
4. prints the file's size, the peak RSS, PASS or FAIL against 1 GiB, and the
   page cache: the tensors source reads examples with pread(2), so the file's
   pages that the kernel caches are not in the trainer's RSS; fincore(1)
   reports how much of the file the page cache holds after the run (memory
   that the kernel takes back under pressure, shared by every reader).
   --cold writes the files out (fsync) and drops them from the page cache
   (posix_fadvise DONTNEED, this file only) before the run, so that every read
   goes to the disk; use it with --max-steps, since random reads from a disk
   are slow;
5. deletes DIR unless --keep.

Exit status: 0 PASS, 1 FAIL (or the trainer failed), 2 not enough disk.
Needs numpy; the machine's load average is printed before and after.
"""
import argparse
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
LIMIT = 1 << 30  # 1 GiB
GB = 1e9
MiB = 1 << 20


def read_idx(path):
    """The uint8 array of a gzip IDX file (Fashion-MNIST's images or labels)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def npy_header(dtype, shape):
    """The bytes of a version 1.0 .npy header for a C-order array."""
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                 "fortran_order": False, "shape": tuple(shape)})
    return buffer.getvalue()


def write_tiled(path, block, count):
    """Writes an .npy of `count` rows: the rows of `block` repeated in order."""
    header = npy_header(block.dtype, (count,) + block.shape[1:])
    with open(path, "wb") as f:
        f.write(header)
        done = 0
        while done < count:
            take = min(len(block), count - done)
            f.write(np.ascontiguousarray(block[:take]).tobytes())
            done += take
    return len(header) + count * block[0].nbytes


def expected_sizes(count):
    image = len(npy_header(np.uint8, (count, 1, 28, 28))) + count * 784
    label = len(npy_header(np.int64, (count,))) + count * 8
    return image, label


def write_data(root, count, source):
    """Writes root/train and root/test; returns the training files' paths."""
    train_images = read_idx(os.path.join(source, "train-images-idx3-ubyte.gz"))
    train_labels = read_idx(os.path.join(source, "train-labels-idx1-ubyte.gz"))
    test_images = read_idx(os.path.join(source, "t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx(os.path.join(source, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    os.makedirs(os.path.join(root, "test"), exist_ok=True)
    image = os.path.join(root, "train", "image.npy")
    label = os.path.join(root, "train", "label.npy")
    write_tiled(image, train_images.reshape(-1, 1, 28, 28), count)
    write_tiled(label, train_labels.astype(np.int64), count)
    np.save(os.path.join(root, "test", "image.npy"),
            test_images.reshape(-1, 1, 28, 28))
    np.save(os.path.join(root, "test", "label.npy"),
            test_labels.astype(np.int64))
    return image, label


def cached_bytes(path):
    """The bytes of `path` in the page cache (fincore), or None without it."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings",
                              "--output", "RES", path],
                             capture_output=True, text=True, check=True).stdout
        return int(out.split()[0])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def drop_from_cache(path):
    """Writes `path` out and drops its pages (this file only) from the cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def status_kb(pid):
    """VmRSS, RssAnon, RssFile, RssShmem of /proc/PID/status, in KiB."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    fields[key] = int(value.split()[0])
    except OSError:
        pass
    return fields


def child_of(pid):
    """The first child of process `pid` (the trainer under /usr/bin/time)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
        return int(children[0]) if children else None
    except (OSError, ValueError):
        return None


def run_measured(command, stdout, stderr, report):
    """Runs `command` under /usr/bin/time -v (report to the file `report`);
    returns (exit status, maximum RSS in KiB, polled peaks in KiB, seconds).

    The trainer's maximum RSS is /usr/bin/time's "Maximum resident set size"
    (the kernel's ru_maxrss of its child), not os.wait4's of a child of this
    script: the kernel keeps the high-water mark across exec, so a child
    forked from Python would count this script's own memory."""
    begin = time.monotonic()
    timer = subprocess.Popen(["/usr/bin/time", "-v", "-o", report] + command,
                             stdout=stdout, stderr=stderr)
    peaks = {}
    stop = threading.Event()

    def poll():
        trainer = None
        while not stop.is_set():
            trainer = trainer or child_of(timer.pid)
            if trainer:
                for key, value in status_kb(trainer).items():
                    peaks[key] = max(peaks.get(key, 0), value)
            stop.wait(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    timer.wait()
    stop.set()
    poller.join()
    seconds = time.monotonic() - begin
    maxrss = None
    code = timer.returncode
    with open(report) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key == "Maximum resident set size (kbytes)":
                maxrss = int(value)
            elif key == "Exit status":
                code = int(value)
    return code, maxrss, peaks, seconds


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default="/tmp/kiln-large-npy",
                        help="where the data goes (default %(default)s)")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"),
                        help="the build tree with bin/kilnc")
    parser.add_argument("--examples", type=int, default=5_480_000,
                        help="training examples (784 bytes each; default "
                        "%(default)s, 4.30 GB)")
    parser.add_argument("--max-steps", type=int, default=4000,
                        help="stop after N steps (default %(default)s; 0: "
                        "one whole epoch)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--source", default=FASHION_DIR,
                        help="Fashion-MNIST's gzip IDX files")
    parser.add_argument("--cold", action="store_true",
                        help="drop the training file from the page cache "
                        "before the run")
    parser.add_argument("--keep", action="store_true",
                        help="keep DIR (and reuse it next time)")
    args = parser.parse_args()

    root = os.path.abspath(args.dir)
    image = os.path.join(root, "train", "image.npy")
    label = os.path.join(root, "train", "label.npy")
    want = expected_sizes(args.examples)
    reuse = all(os.path.exists(p) and os.path.getsize(p) == size
                for p, size in zip((image, label), want)) and all(
        os.path.exists(os.path.join(root, "test", n))
        for n in ("image.npy", "label.npy"))
    print(f"load average before: {load()}")
    if reuse:
        print(f"reusing {root} (kept by an earlier --keep run)")
    else:
        os.makedirs(root, exist_ok=True)
        free = shutil.disk_usage(root).free
        need = sum(want) + 64 * MiB
        print(f"free space in {root}: {free / GB:.1f} GB, "
              f"needed {need / GB:.2f} GB")
        if free < need * 1.1:
            print("FAIL: not enough disk space", file=sys.stderr)
            return 2
        begin = time.monotonic()
        write_data(root, args.examples, args.source)
        print(f"wrote {root} in {time.monotonic() - begin:.1f} s")
    size = os.path.getsize(image)
    total = size + os.path.getsize(label)
    print(f"training file: {image}: {size} bytes ({size / GB:.2f} GB, "
          f"{size / (1 << 30):.2f} GiB), uint8 [{args.examples}, 1, 28, 28]; "
          f"labels {os.path.getsize(label) / GB:.3f} GB")

    work = tempfile.mkdtemp(prefix="kiln-large-")
    try:
        trainer = os.path.join(work, "large-mlp-train")
        subprocess.run([os.path.join(args.build, "bin", "kilnc"),
                        os.path.join(HERE, "large_mlp.kiln"), "-o", trainer],
                       check=True)
        if args.cold:
            for path in (image, label):
                drop_from_cache(path)
        cached_before = cached_bytes(image)
        command = [trainer, "--data", root, "--threads", str(args.threads)]
        if args.max_steps:
            command += ["--max-steps", str(args.max_steps)]
        print("running: " + " ".join(command))
        out_path = os.path.join(work, "stdout")
        err_path = os.path.join(work, "stderr")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            code, maxrss_kb, peaks, seconds = run_measured(
                command, out, err, os.path.join(work, "time"))
        if maxrss_kb is None:
            print("FAIL: /usr/bin/time -v gave no maximum resident set size",
                  file=sys.stderr)
            return 1
        cached_after = cached_bytes(image)
        with open(err_path) as f:
            notes = f.read()
        with open(out_path) as f:
            result = f.read()
        print("trainer's notes (stderr):")
        for line in notes.splitlines():
            print("  " + line)
        print("trainer's result (stdout): " + result.strip())
        print(f"trainer ran {seconds:.1f} s, exit status {code}")
        print(f"load average after: {load()}")
        print()
        print(f"training file size:          {size / GB:8.2f} GB "
              f"({total / GB:.2f} GB with the labels)")
        print(f"trainer's peak RSS:          {maxrss_kb * 1024 / MiB:8.1f} MiB "
              f"(/usr/bin/time -v; limit {LIMIT // MiB} MiB)")
        print(f"  polled every 20 ms:        {peaks.get('VmRSS', 0) / 1024:8.1f}"
              f" MiB: anonymous {peaks.get('RssAnon', 0) / 1024:.1f} MiB, "
              f"file-backed {peaks.get('RssFile', 0) / 1024:.1f} MiB (peaks "
              f"of /proc/PID/status)")
        if cached_before is not None and cached_after is not None:
            print(f"page cache holding the training file: "
                  f"{cached_before / GB:.2f} GB before the run, "
                  f"{cached_after / GB:.2f} GB after (fincore): kernel memory "
                  f"outside the trainer's RSS, since examples are read with "
                  f"pread(2), not mapped; reclaimable under pressure")
        ok = code == 0 and maxrss_kb * 1024 < LIMIT
        print(("PASS" if ok else "FAIL") +
              f": peak RSS {maxrss_kb * 1024 / MiB:.1f} MiB "
              f"{'<' if maxrss_kb * 1024 < LIMIT else '>='} 1024 MiB "
              f"for a {size / GB:.2f} GB training file"
              + ("" if code == 0 else f" (trainer exit status {code})"))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            print(f"deleted {root}")


if __name__ == "__main__":
    sys.exit(main())
