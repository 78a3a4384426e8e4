//===- Dataset.cpp - Synthetic data, epoch order and batches --------------===//
//
// Every random number here comes from SplitMix64 and integer arithmetic, not
// from <random>, whose distributions and std::shuffle are implementation-
// defined: a seed must give the same data and the same order on every
// machine, with every standard library.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <initializer_list>
#include <new>
#include <numeric>

using namespace kiln;
using namespace kiln::data;

namespace {

/// Keeps the streams of the synthetic fields and of the epoch orders apart
/// even when their seeds and indices coincide.
constexpr uint64_t kSyntheticStream = 0x73796e7468657469; // "syntheti"
constexpr uint64_t kEpochStream = 0x65706f63686f7264;     // "epochord"

/// SplitMix64's output function: a bijective mix of all 64 bits.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/// SplitMix64 (Steele, Lea and Flood, 2014) started at a state derived from a
/// seed and a list of stream keys.
class SplitMix64 {
public:
  SplitMix64(uint64_t seed, std::initializer_list<uint64_t> keys)
      : state(mix64(seed)) {
    for (uint64_t key : keys)
      state = mix64(state ^ mix64(key + kGolden));
  }

  uint64_t next() { return mix64(state += kGolden); }

  /// Uniform in [0, bound) for bound >= 1, by Lemire's multiply-and-reject,
  /// which has no bias.
  uint64_t below(uint64_t bound) {
    unsigned __int128 product = static_cast<unsigned __int128>(next()) * bound;
    auto low = static_cast<uint64_t>(product);
    if (low < bound) {
      uint64_t threshold = -bound % bound;
      while (low < threshold) {
        product = static_cast<unsigned __int128>(next()) * bound;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  /// Uniform in [0, 1) on the grid of 2^-53, which doubles hold exactly.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  static constexpr uint64_t kGolden = 0x9e3779b97f4a7c15;
  uint64_t state;
};

/// One field of `count` random examples of `spec`.
io::TensorData makeField(const FieldSpec &spec, int64_t count, int64_t classes,
                         SplitMix64 random) {
  std::vector<int64_t> shape = {count};
  shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
  io::TensorData field = io::TensorData::zeros(spec.dtype, shape);
  int64_t elements = field.numElements();
  switch (spec.dtype) {
  case io::DType::F32:
    // 24 random bits: every value is a float in [0, 1), none rounds up to 1.
    for (int64_t i = 0; i < elements; ++i)
      field.data<float>()[i] =
          static_cast<float>(random.next() >> 40) * 0x1.0p-24f;
    break;
  case io::DType::F64:
    for (int64_t i = 0; i < elements; ++i)
      field.data<double>()[i] = random.unit();
    break;
  case io::DType::I64:
    for (int64_t i = 0; i < elements; ++i)
      field.data<int64_t>()[i] =
          static_cast<int64_t>(random.below(static_cast<uint64_t>(classes)));
    break;
  }
  return field;
}

} // namespace

int64_t Dataset::size() const {
  return fields.empty() || fields.front().shape.empty()
             ? 0
             : fields.front().shape.front();
}

bool data::makeSynthetic(const std::vector<FieldSpec> &fields, int64_t train,
                         int64_t test, int64_t classes, uint64_t seed,
                         Split &out, std::string &error) {
  if (train < 0 || test < 0) {
    error = "synthetic data: train (" + std::to_string(train) + ") and test (" +
            std::to_string(test) + ") must not be negative";
    return false;
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    // The bytes of the larger split, which must not overflow.
    int64_t bytes = 0;
    bool bad = __builtin_mul_overflow(std::max(train, test), 8, &bytes);
    for (int64_t dim : fields[f].shape)
      bad = bad || dim < 0 || __builtin_mul_overflow(bytes, dim, &bytes);
    if (bad) {
      error = "synthetic data: field " + std::to_string(f) +
              " has a negative shape or is too large; give each input a "
              "static, non-negative shape, or ask for fewer examples";
      return false;
    }
    if (fields[f].dtype == io::DType::I64 && classes < 1) {
      error = "synthetic data: field " + std::to_string(f) +
              " holds labels, which need classes >= 1 (got " +
              std::to_string(classes) + ")";
      return false;
    }
  }
  try {
    Split split;
    for (size_t f = 0; f < fields.size(); ++f) {
      split.train.fields.push_back(
          makeField(fields[f], train, classes,
                    SplitMix64(seed, {kSyntheticStream, 0, f})));
      split.test.fields.push_back(
          makeField(fields[f], test, classes,
                    SplitMix64(seed, {kSyntheticStream, 1, f})));
    }
    out = std::move(split);
    return true;
  } catch (const std::bad_alloc &) {
    error = "synthetic data: out of memory for " + std::to_string(train) +
            " + " + std::to_string(test) +
            " examples; ask for fewer examples or smaller inputs";
    return false;
  }
}

std::vector<int64_t> data::epochOrder(int64_t size, uint64_t seed,
                                      int64_t epoch, bool shuffle) {
  assert(size >= 0 && "a dataset has a non-negative number of examples");
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle)
    return order;
  SplitMix64 random(seed, {kEpochStream, static_cast<uint64_t>(epoch)});
  for (int64_t i = size - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(random.below(static_cast<uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

void data::gatherBatch(const Dataset &data, const std::vector<int64_t> &order,
                       int64_t begin, int64_t count,
                       const std::vector<void *> &destinations) {
  assert(destinations.size() == data.fields.size() &&
         "one destination per field");
  assert(begin >= 0 && count >= 0 &&
         begin + count <= static_cast<int64_t>(order.size()) &&
         "the batch lies inside the order");
  int64_t size = data.size();
  for (size_t f = 0; f < data.fields.size(); ++f) {
    const io::TensorData &field = data.fields[f];
    size_t exampleBytes = size ? field.bytes.size() / size : 0;
    auto *destination = static_cast<uint8_t *>(destinations[f]);
    for (int64_t i = 0; i < count; ++i) {
      int64_t example = order[begin + i];
      assert(example >= 0 && example < size && "an example of the dataset");
      std::memcpy(destination + i * exampleBytes,
                  field.bytes.data() + example * exampleBytes, exampleBytes);
    }
  }
}
