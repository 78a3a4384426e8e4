//===- TransformsTest.cpp - The image transforms --------------------------===//
//
// normalize, random_crop and random_flip on [C, H, W] examples: their
// arithmetic, their draws from (seed, epoch, example), their order, and
// every error that checkTransforms reports.
//
//===----------------------------------------------------------------------===//

#include "ImagesTesting.h"

#include "data/Transforms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;

namespace {

Transform normalize(std::vector<double> mean, std::vector<double> std) {
  Transform transform;
  transform.kind = Transform::Kind::Normalize;
  transform.mean = std::move(mean);
  transform.std = std::move(std);
  return transform;
}

Transform crop(int64_t padding) {
  Transform transform;
  transform.kind = Transform::Kind::RandomCrop;
  transform.padding = padding;
  return transform;
}

Transform flip(double p) {
  Transform transform;
  transform.kind = Transform::Kind::RandomFlip;
  transform.p = p;
  return transform;
}

/// 1, 2, 3, ... for each element of a [C, H, W] example.
std::vector<float> counting(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(i + 1);
  return values;
}

std::vector<float> apply(const std::vector<Transform> &transforms,
                         const Field &field, std::vector<float> values,
                         bool training, int64_t epoch, int64_t example,
                         uint64_t seed = 42) {
  std::vector<Field> fields = {field, labelField()};
  int64_t label = 0;
  void *rows[] = {values.data(), &label};
  applyTransforms(transforms, fields, rows, training, seed, epoch, example);
  return values;
}

std::string transformError(const std::vector<Transform> &transforms,
                           const std::vector<Field> &fields) {
  std::string error;
  EXPECT_FALSE(checkTransforms(transforms, fields, error));
  return error;
}

TEST(TransformsTest, NormalizesInFloatArithmetic) {
  Field field = imageField(2, 1, 2);
  std::vector<float> x = {0.1f, 0.7f, 0.3f, 1.0f};
  std::vector<Transform> transforms = {
      normalize({0.485, 0.456}, {0.229, 0.224})};
  std::string error;
  ASSERT_TRUE(checkTransforms(transforms, {field}, error)) << error;
  std::vector<float> expected = {
      (0.1f - 0.485f) / 0.229f, (0.7f - 0.485f) / 0.229f,
      (0.3f - 0.456f) / 0.224f, (1.0f - 0.456f) / 0.224f};
  EXPECT_EQ(apply(transforms, field, x, false, 0, 0), expected);
  EXPECT_EQ(apply(transforms, field, x, true, 3, 9), expected);
  std::vector<float> one =
      apply({normalize({0.5}, {0.25})}, field, x, false, 0, 0);
  EXPECT_EQ(one,
            (std::vector<float>{(0.1f - 0.5f) / 0.25f, (0.7f - 0.5f) / 0.25f,
                                (0.3f - 0.5f) / 0.25f, 2.0f}));
}

TEST(TransformsTest, RandomCropShiftsAWindowOfThePaddedImage) {
  Field field = imageField(2, 3, 4);
  std::vector<float> input = counting(24);
  std::set<std::pair<int64_t, int64_t>> shifts;
  for (int64_t example = 0; example < 200; ++example) {
    std::vector<float> out = apply({crop(1)}, field, input, true, 0, example);
    EXPECT_EQ(out, apply({crop(1)}, field, input, true, 0, example))
        << "the same (seed, epoch, example) crops alike";
    // Find the shift from the values that came through, then check all.
    bool found = false;
    for (int64_t dy = -1; dy <= 1 && !found; ++dy)
      for (int64_t dx = -1; dx <= 1 && !found; ++dx) {
        bool match = true;
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t y = 0; y < 3; ++y)
            for (int64_t x = 0; x < 4; ++x) {
              int64_t sy = y + dy, sx = x + dx;
              float want = sy >= 0 && sy < 3 && sx >= 0 && sx < 4
                               ? input[c * 12 + sy * 4 + sx]
                               : 0.0f;
              match = match && out[c * 12 + y * 4 + x] == want;
            }
        if (match) {
          found = true;
          shifts.insert({dy, dx});
        }
      }
    EXPECT_TRUE(found) << "example " << example << " is not a shifted window";
  }
  EXPECT_EQ(shifts.size(), 9u) << "every offset in [0, 2p] on both axes";
  EXPECT_EQ(apply({crop(1)}, field, input, false, 0, 5), input);
  EXPECT_NE(apply({crop(2)}, field, input, true, 0, 1),
            apply({crop(2)}, field, input, true, 1, 1))
      << "epochs crop differently";
  EXPECT_NE(apply({crop(2)}, field, input, true, 0, 1, 1),
            apply({crop(2)}, field, input, true, 0, 1, 2))
      << "seeds crop differently";
}

TEST(TransformsTest, RandomCropWithPaddingBeyondTheImage) {
  Field field = imageField(1, 2, 2);
  int zeros = 0;
  for (int64_t example = 0; example < 50; ++example)
    for (float value :
         apply({crop(1000)}, field, counting(4), true, 0, example)) {
      EXPECT_TRUE(value == 0 || (value >= 1 && value <= 4));
      zeros += value == 0;
    }
  EXPECT_GT(zeros, 150);
}

TEST(TransformsTest, RandomFlip) {
  Field field = imageField(2, 2, 3);
  std::vector<float> input = counting(12);
  std::vector<float> mirrored = {3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10};
  int flipped = 0, twice = 0;
  for (int64_t example = 0; example < 100; ++example) {
    EXPECT_EQ(apply({flip(1)}, field, input, true, 0, example), mirrored);
    EXPECT_EQ(apply({flip(0)}, field, input, true, 0, example), input);
    EXPECT_EQ(apply({flip(1)}, field, input, false, 0, example), input);
    flipped += apply({flip(0.5)}, field, input, true, 0, example) == mirrored;
    // Two flips draw from two streams: they do not always cancel.
    twice += apply({flip(0.5), flip(0.5)}, field, input, true, 0, example) ==
             mirrored;
  }
  EXPECT_GT(flipped, 30);
  EXPECT_LT(flipped, 70);
  EXPECT_GT(twice, 30);
  EXPECT_LT(twice, 70);
}

TEST(TransformsTest, TransformsRunInOrder) {
  Field field = imageField(1, 1, 2);
  std::vector<float> input = {1, 3};
  EXPECT_EQ(apply({normalize({1}, {2}), flip(1)}, field, input, true, 0, 0),
            (std::vector<float>{1, 0}));
  EXPECT_EQ(apply({flip(1), normalize({1}, {2})}, field, input, true, 0, 0),
            (std::vector<float>{1, 0}));
  // Padding zeros are normalized only when the crop comes first.
  Field column = imageField(1, 2, 1);
  std::set<std::vector<float>> results;
  for (int64_t example = 0; example < 40; ++example)
    results.insert(apply({crop(1), normalize({1}, {1})}, column, {1, 1}, true,
                         0, example));
  EXPECT_TRUE(results.count({-1, 0}) || results.count({0, -1}));
}

TEST(TransformsTest, CheckErrors) {
  std::vector<Field> fields = {
      imageField(3, 4, 4), labelField(), {"flat", io::DType::F32, {4, 4}}};
  Transform wrongField = flip(0.5);
  wrongField.field = 5;
  EXPECT_EQ(transformError({wrongField}, fields),
            "transforms[0], random_flip: it applies to input 5, but the model "
            "has 3; the trainer was compiled by another kilnc: compile it "
            "again");
  Transform onLabel = crop(2);
  onLabel.field = 1;
  EXPECT_EQ(transformError({flip(0.5), onLabel}, fields),
            "transforms[1], random_crop(label): the input 'label' is i64[], "
            "but the image transforms take f32[C, H, W] images (channels, "
            "height, width); apply it to an image input");
  Transform onFlat = normalize({0}, {1});
  onFlat.field = 2;
  EXPECT_TRUE(contains(transformError({onFlat}, fields),
                       "normalize(flat): the input 'flat' is f32[4, 4], "
                       "but"));

  EXPECT_EQ(transformError({normalize({0.5, 0.5}, {1})}, fields),
            "transforms[0], normalize(image): 2 mean values for 3 channels; "
            "give one per channel, or one for all");
  EXPECT_TRUE(contains(transformError({normalize({0.5}, {})}, fields),
                       "0 std values for 3 channels"));
  EXPECT_EQ(transformError({normalize({0.5}, {0.2, 0, 0.2})}, fields),
            "transforms[0], normalize(image): std[1] is 0; give standard "
            "deviations above 0 (and above 1.4e-45, the least float32)");
  EXPECT_TRUE(contains(transformError({normalize({0.5}, {-0.1})}, fields),
                       "std[0] is -0.1; give standard deviations above 0"));
  EXPECT_TRUE(contains(transformError({normalize({0.5}, {1e-50})}, fields),
                       "std[0] is 1e-50; give standard deviations above 0"));
  EXPECT_EQ(transformError({normalize({0, 1e300, 0}, {1})}, fields),
            "transforms[0], normalize(image): mean[1] is 1e+300; give finite "
            "numbers, within float32's range");
  EXPECT_TRUE(contains(transformError({normalize({NAN}, {1})}, fields),
                       "mean[0] is nan; give finite numbers"));

  EXPECT_EQ(transformError({crop(-1)}, fields),
            "transforms[0], random_crop(image): padding is -1; give 0 or more "
            "pixels");
  EXPECT_EQ(transformError({flip(1.5)}, fields),
            "transforms[0], random_flip(image): p is 1.5; give a probability "
            "from 0 to 1");
  EXPECT_TRUE(contains(transformError({flip(NAN)}, fields),
                       "p is nan; give a probability"));

  std::string error;
  EXPECT_TRUE(checkTransforms(
      {normalize({0.5}, {0.5}), crop(4), flip(0), flip(1)}, fields, error))
      << error;
}

} // namespace
