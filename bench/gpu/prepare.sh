#!/usr/bin/env bash
# Writes build-device/, everything bench/gpu/run-device.sh needs on a machine
# with an NVIDIA GPU that has none of this one's toolchain: no LLVM or MLIR
# (so no kilnc: the trainers are compiled here), no oneDNN (its library
# travels), no Debian datasets (a small Fashion-MNIST and the word lists
# travel). Runs on a built tree; it builds nothing.
#
# usage: bench/gpu/prepare.sh      (BUILD=DIR for another build than build/)
#
# build-device/ holds bundle.tar.xz (trainers/, lib/, data/, peers/ and
# SHA256SUMS of them) and MANIFEST.txt. It must fit in what the device tool
# carries (64 MiB for all carried paths), hence xz and the size check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
KILNC=$BUILD/bin/kilnc
DEST=$ROOT/build-device
FASHION=/usr/share/datasets/fashion-mnist
DICT=/usr/share/dict
PEERS=$ROOT/../shared/peers
LIMIT_BYTES=$((60 * 1024 * 1024))
# Enough for a 100-step epoch of the CNN at batch 64 and a test set that
# ends in a partial batch, as the full one does.
FASHION_TRAIN=6400
FASHION_TEST=1000

[[ -x $KILNC ]] || { echo "prepare: no $KILNC; build it first (ninja -C $BUILD kilnc)" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{trainers/bench,trainers/gpu,trainers/cpu,lib,data/fashion-mnist,data/dict}

compile() { # compile OUTPUT KILN_FILE [kilnc flags...]
  local out=$1 src=$2
  shift 2
  echo "prepare: kilnc $src${*:+ $*} -o $out"
  "$KILNC" "$ROOT/$src" "$@" -o "$STAGE/trainers/$out"
}

# The benchmark models, at the batches of the peers' --scale 4 and 32. The
# file names are the peers' model names (the CIFAR-shaped CNN is their cnn).
for batch in 256 2048; do
  compile "bench/cnn-$batch" examples/cnn_cifar.kiln --target=cuda --batch-size=$batch
  compile "bench/lstm-$batch" bench/models/lstm.kiln --target=cuda --batch-size=$batch
  compile "bench/transformer-$batch" bench/models/transformer.kiln --target=cuda --batch-size=$batch
done
# The seed examples on both devices, for parity and training on real data.
for model in cnn lstm transformer; do
  compile "gpu/$model" "examples/$model.kiln" --target=cuda
  compile "cpu/$model" "examples/$model.kiln"
done
# The CNN in mixed precision (precision = bf16), for parity.
compile gpu/cnn_bf16 examples/cnn.kiln --target=cuda --precision=bf16
compile cpu/cnn_bf16 examples/cnn.kiln --precision=bf16
# The op-coverage models of the tests (every op, on synthetic data).
for model in convolutions recurrent sequences elementwise; do
  compile "gpu/$model" "test/GPU/Inputs/models/$model.kiln" --target=cuda
  compile "cpu/$model" "test/GPU/Inputs/models/$model.kiln"
done

# The libraries the trainers load beyond the base system (oneDNN, GNU
# OpenMP, the OpenCL loader oneDNN links). glibc cannot travel, and neither
# should libstdc++, libgcc_s or zlib: any system has them, and this one's
# libstdc++ needs glibc 2.36, which would bar a device with an older glibc
# that the trainers themselves run on (the manifest says what they need).
libraries=$(for trainer in "$STAGE"/trainers/*/*; do ldd "$trainer"; done |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
  grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libstdc\+\+|libgcc_s|libz)\.so' | sort -u)
for library in $libraries; do
  cp -L "$library" "$STAGE/lib/"
done
if ldd "$STAGE"/trainers/*/* | grep -q 'not found'; then
  echo "prepare: a trainer needs a library that is not installed here" >&2
  exit 1
fi

# Fashion-MNIST cut to its first examples: each IDX header is rewritten with
# the new count, so the trainers' checks of the files hold.
python3 - "$FASHION" "$STAGE/data/fashion-mnist" "$FASHION_TRAIN" "$FASHION_TEST" <<'EOF'
import gzip, math, struct, sys
src, dst, counts = sys.argv[1], sys.argv[2], {"train": int(sys.argv[3]), "t10k": int(sys.argv[4])}
for prefix, count in counts.items():
    for kind, rank in (("images-idx3", 3), ("labels-idx1", 1)):
        name = f"{prefix}-{kind}-ubyte.gz"
        with gzip.open(f"{src}/{name}") as f:
            data = f.read()
        header = 4 + 4 * rank
        magic, total, *item_shape = struct.unpack(f">{1 + rank}I", data[:header])
        if total < count:
            sys.exit(f"prepare: {src}/{name} has {total} examples, fewer than {count}")
        body = data[header:header + count * math.prod(item_shape)]
        # mtime 0: the same examples give the same file.
        with open(f"{dst}/{name}", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(struct.pack(f">{1 + rank}I", magic, count, *item_shape) + body)
EOF

# The word lists, whole: the word language task hashes and deduplicates
# every word of every list before it selects any. Which lists: the runtime's.
lists=$(grep -o '{"[^"]*", "w[^"]*"}' "$ROOT/runtime/src/data/Datasets.h" | cut -d'"' -f2)
[[ $(wc -w <<<"$lists") == 10 ]] || { echo "prepare: cannot read the word lists of Datasets.h" >&2; exit 1; }
for list in $lists; do
  cp -L "$DICT/$list" "$STAGE/data/dict/"
done

# The peers, when this checkout has them beside it: the device may lack them.
if [[ -d $PEERS ]]; then
  cp -r "$PEERS" "$STAGE/peers"
else
  echo "prepare: no $PEERS; the device run will need its own"
fi

(cd "$STAGE" && find . -type f ! -name SHA256SUMS -print0 | sort -z |
  xargs -0 sha256sum > SHA256SUMS)

rm -rf "$DEST"
mkdir -p "$DEST"
echo "prepare: compressing (about a minute)"
tar -C "$STAGE" -cf - . |
  xz -6 -T2 > "$DEST/bundle.tar.xz"

commit=$(git -C "$ROOT" rev-parse HEAD)
changed=$(git -C "$ROOT" status --porcelain --untracked-files=no | awk '{ print $2 }' | paste -sd' ')
format=$("$KILNC" "$ROOT/examples/mlp.kiln" --target=cuda -emit=llvm-dialect |
  grep -o '\\22gpu_format\\22: \\22[a-z]*' | head -1 | sed 's/.*\\22//')
arch=$("$KILNC" --help | grep -o 'default: sm_[0-9]*' | head -1 | cut -d' ' -f2)
needs() { objdump -T "$STAGE"/trainers/*/* "$STAGE"/lib/* | grep -o "$1_[0-9.]*" | sort -uV | tail -1; }
{
  echo "Kiln device bundle for bench/gpu/run-device.sh"
  echo "written     $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
  echo "source      commit $commit${changed:+ with uncommitted changes to: $changed} (built in $BUILD, assumed current)"
  echo "kilnc       $("$KILNC" --version | grep -m1 -i version | sed 's/^ *//')"
  echo "kernels     $format for ${arch:-?}"
  echo "needs       $(needs GLIBC), libstdc++ with $(needs GLIBCXX), libgcc_s, zlib (the other libraries are in lib/)"
  echo "data        Fashion-MNIST: first $FASHION_TRAIN training, $FASHION_TEST test examples; word lists: ${lists//$'\n'/ }"
  echo
  echo "bytes uncompressed:"
  (cd "$STAGE" && du -ab . | sort -k2)
  echo
  echo "bundle.tar.xz   $(stat -c %s "$DEST/bundle.tar.xz") bytes"
} > "$DEST/MANIFEST.txt"

total=$(du -sb "$DEST" | cut -f1)
echo "build-device     $total bytes in all" >> "$DEST/MANIFEST.txt"
sed -n '1,8p;$p' "$DEST/MANIFEST.txt"
if (( total > LIMIT_BYTES )); then
  echo "prepare: build-device is $total bytes, over the $LIMIT_BYTES allowed" >&2
  exit 1
fi
