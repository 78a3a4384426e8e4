//===- Transforms.cpp - The image transforms of the train section ---------===//
//
// Each transform works in place on one example's [C, H, W] floats, as
// torchvision's Normalize, RandomCrop(size, padding) and
// RandomHorizontalFlip(p) work on the tensor of one image. A random
// transform draws from a stream of its own, the transform's position in the
// list, so that two random_flips flip independently.
//
//===----------------------------------------------------------------------===//

#include "data/Text.h"
#include "data/Transforms.h"

#include "kiln/Random.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace kiln;
using namespace kiln::data;

namespace {

/// Keeps the transforms' streams apart from the other users of the seed
/// (dropout, the epoch order).
constexpr uint64_t kTransformStreams = 0x7472616e73666f72; // "transfor"

const char *kindName(Transform::Kind kind) {
  switch (kind) {
  case Transform::Kind::Normalize:
    return "normalize";
  case Transform::Kind::RandomCrop:
    return "random_crop";
  case Transform::Kind::RandomFlip:
    return "random_flip";
  }
  return "transform";
}

/// The per-channel mean or std of a normalize: one number per channel or
/// one for all; each finite, and each std a positive float32 number, since
/// the arithmetic is float's.
bool checkStatistics(const std::string &where, const char *name,
                     const std::vector<double> &values, int64_t channels,
                     bool positive, std::string &error) {
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != channels) {
    error = where + ": " + std::to_string(values.size()) + " " + name +
            " values for " + std::to_string(channels) +
            " channels; give one per channel, or one for all";
    return false;
  }
  for (size_t c = 0; c < values.size(); ++c) {
    auto value = static_cast<float>(values[c]);
    if (std::isfinite(value) && (!positive || value > 0))
      continue;
    error = where + ": " + name + "[" + std::to_string(c) + "] is " +
            shortNumber(values[c]) +
            (positive ? "; give standard deviations above 0 (and above "
                        "1.4e-45, the least float32)"
                      : "; give finite numbers, within float32's range");
    return false;
  }
  return true;
}

/// Draw `draw` of the transform at `position` for one example.
double uniform(uint64_t seed, size_t position, uint64_t draw, int64_t epoch,
               int64_t example) {
  uint64_t stream =
      kiln_mix64(seed ^ kiln_mix64(kTransformStreams + (position << 8) + draw));
  return kiln_uniform(stream, static_cast<uint64_t>(epoch),
                      static_cast<uint64_t>(example));
}

/// torchvision's RandomCrop offset on one axis, from the padded image's
/// start: floor(u * (2p + 1)), at most 2p; returned as the shift of the
/// window against the unpadded image, in [-p, p], clamped to [-side, side]
/// since a window shifted further holds only padding.
int64_t cropShift(double u, int64_t padding, int64_t side) {
  double span = 2.0 * static_cast<double>(padding);
  double offset = std::min(std::floor(u * (span + 1.0)), span);
  double shift = offset - static_cast<double>(padding);
  return static_cast<int64_t>(std::clamp(shift, -double(side), double(side)));
}

/// Moves each channel's window by (dy, dx) in place: out[y][x] =
/// in[y + dy][x + dx], zero outside the image. Rows and columns are visited
/// in the order that reads each source before it is overwritten.
void shift(float *data, int64_t channels, int64_t height, int64_t width,
           int64_t dy, int64_t dx) {
  int64_t kept = width - std::abs(dx);
  for (int64_t c = 0; c < channels; ++c) {
    float *plane = data + c * height * width;
    for (int64_t i = 0; i < height; ++i) {
      int64_t y = dy > 0 ? i : height - 1 - i;
      float *row = plane + y * width;
      int64_t from = y + dy;
      if (from < 0 || from >= height || kept <= 0) {
        std::fill(row, row + width, 0.0f);
        continue;
      }
      const float *source = plane + from * width;
      float *to = row + std::max<int64_t>(0, -dx);
      std::memmove(to, source + std::max<int64_t>(0, dx), kept * sizeof(float));
      std::fill(row, to, 0.0f);
      std::fill(to + kept, row + width, 0.0f);
    }
  }
}

} // namespace

bool data::checkTransforms(const std::vector<Transform> &transforms,
                           const std::vector<Field> &fields,
                           std::string &error) {
  for (size_t i = 0; i < transforms.size(); ++i) {
    const Transform &transform = transforms[i];
    std::string where =
        "transforms[" + std::to_string(i) + "], " + kindName(transform.kind);
    if (transform.field >= fields.size()) {
      error = where + ": it applies to input " +
              std::to_string(transform.field) + ", but the model has " +
              std::to_string(fields.size()) +
              "; the trainer was compiled by another kilnc: compile it "
              "again";
      return false;
    }
    const Field &field = fields[transform.field];
    where += "(" + field.name + ")";
    bool image = field.dtype == io::DType::F32 && field.shape.size() == 3 &&
                 std::all_of(field.shape.begin(), field.shape.end(),
                             [](int64_t dim) { return dim > 0; });
    if (!image) {
      error = where + ": the input '" + field.name + "' is " +
              formatField(field) +
              ", but the image transforms take f32[C, H, W] images "
              "(channels, height, width); apply it to an image input";
      return false;
    }
    switch (transform.kind) {
    case Transform::Kind::Normalize:
      if (!checkStatistics(where, "mean", transform.mean, field.shape[0], false,
                           error) ||
          !checkStatistics(where, "std", transform.std, field.shape[0], true,
                           error))
        return false;
      break;
    case Transform::Kind::RandomCrop:
      if (transform.padding < 0) {
        error = where + ": padding is " + std::to_string(transform.padding) +
                "; give 0 or more pixels";
        return false;
      }
      break;
    case Transform::Kind::RandomFlip:
      if (!(transform.p >= 0 && transform.p <= 1)) {
        error = where + ": p is " + shortNumber(transform.p) +
                "; give a probability from 0 to 1";
        return false;
      }
      break;
    }
  }
  return true;
}

void data::applyTransforms(const std::vector<Transform> &transforms,
                           const std::vector<Field> &fields, void *const *rows,
                           bool training, uint64_t seed, int64_t epoch,
                           int64_t example) {
  for (size_t i = 0; i < transforms.size(); ++i) {
    const Transform &transform = transforms[i];
    if (transform.kind != Transform::Kind::Normalize && !training)
      continue;
    const std::vector<int64_t> &shape = fields[transform.field].shape;
    int64_t channels = shape[0], height = shape[1], width = shape[2];
    int64_t plane = height * width;
    auto *data = static_cast<float *>(rows[transform.field]);
    switch (transform.kind) {
    case Transform::Kind::Normalize:
      // torchvision subtracts and divides float32 tensors: the statistics
      // are rounded to float, and so is each step.
      for (int64_t c = 0; c < channels; ++c) {
        size_t s = transform.mean.size() == 1 ? 0 : c;
        auto mean = static_cast<float>(transform.mean[s]);
        s = transform.std.size() == 1 ? 0 : c;
        auto std = static_cast<float>(transform.std[s]);
        for (float *x = data + c * plane, *end = x + plane; x != end; ++x)
          *x = (*x - mean) / std;
      }
      break;
    case Transform::Kind::RandomCrop: {
      // Rows first, as torchvision draws the top before the left.
      int64_t dy = cropShift(uniform(seed, i, 0, epoch, example),
                             transform.padding, height);
      int64_t dx = cropShift(uniform(seed, i, 1, epoch, example),
                             transform.padding, width);
      if (dy != 0 || dx != 0)
        shift(data, channels, height, width, dy, dx);
      break;
    }
    case Transform::Kind::RandomFlip:
      if (uniform(seed, i, 0, epoch, example) < transform.p)
        for (int64_t row = 0; row < channels * height; ++row)
          std::reverse(data + row * width, data + (row + 1) * width);
      break;
    }
  }
}
