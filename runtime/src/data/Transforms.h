//===- Transforms.h - The image transforms of the train section -----------===//
//
// `transforms = [normalize(image, ...), random_crop(image, ...), ...]` in the
// recipe: applied in the order written to one example of an f32 input of
// shape [C, H, W] after the source has read it. normalize applies to
// training and evaluation alike (as a torchvision recipe puts Normalize in
// both pipelines); the random ones only while training. Their randomness is
// a pure function of (seed, epoch, example), so a resumed run and any number
// of batch threads draw the same crops and flips.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_TRANSFORMS_H
#define KILN_RUNTIME_DATA_TRANSFORMS_H

#include "data/Source.h"

#include <cstdint>
#include <vector>

namespace kiln::data {

struct Transform {
  enum class Kind { Normalize, RandomCrop, RandomFlip };
  Kind kind = Kind::Normalize;
  /// The index of the input (a Field) it applies to: f32[C, H, W].
  size_t field = 0;
  /// Normalize: (x - mean[c]) / std[c], one entry per channel, or one for
  /// all channels.
  std::vector<double> mean, std;
  /// RandomCrop: pads each side with `padding` zeros, then crops a random
  /// H x W window (torchvision's RandomCrop(size, padding)).
  int64_t padding = 0;
  /// RandomFlip: mirrors left to right with probability p.
  double p = 0.5;
};

/// Checks that each transform fits its field (f32, rank 3, as many means and
/// stds as channels, or one); on failure returns false and sets `error`.
bool checkTransforms(const std::vector<Transform> &transforms,
                     const std::vector<Field> &fields, std::string &error);

/// Applies `transforms` in order to one example, rows[f] holding field f,
/// in place; checkTransforms must have accepted them. Random transforms run
/// only when `training`; they draw from (seed, epoch, example), where
/// `example` is the example's index in its split, each from a stream of its
/// own (its position in `transforms`).
void applyTransforms(const std::vector<Transform> &transforms,
                     const std::vector<Field> &fields, void *const *rows,
                     bool training, uint64_t seed, int64_t epoch,
                     int64_t example);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_TRANSFORMS_H
