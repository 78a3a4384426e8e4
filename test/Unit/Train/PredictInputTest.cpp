//===- PredictInputTest.cpp - The examples that `trainer predict` reads ---===//
//
// Every kind of input on small files written here: values read back
// exactly (scale, standardization and class ids as training made them),
// labels present and absent, and each message checked by its content.
//
//===----------------------------------------------------------------------===//

#include "../Data/ImagesTesting.h"
#include "../Data/TensorsTesting.h"

#include "train/Error.h"
#include "train/PredictInput.h"
#include "train/Program.h"

#include <cmath>

using namespace kiln::data::testing;
using kiln::train::DataSource;
using kiln::train::Error;
using kiln::train::PredictInput;
using kiln::train::PredictRequest;
namespace data = kiln::data;
namespace io = kiln::io;
namespace fs = std::filesystem;

namespace {

using Strings = std::vector<std::string>;

class PredictInputTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "predict-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string write(const std::string &name, const std::string &bytes) {
    fs::path path = dir / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }
  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  /// A request for `path` with the inputs of a small image classifier.
  PredictRequest
  request(const std::string &name,
          std::vector<data::Field> inputs = {f32("image", {1, 2, 2})},
          std::optional<data::Field> label = i64("label", {}, 3)) {
    PredictRequest request;
    request.path = pathOf(name);
    request.inputs = std::move(inputs);
    request.label = std::move(label);
    request.recipeData = &recipe;
    return request;
  }

  std::string failure(const PredictRequest &request) {
    try {
      kiln::train::openPredictInput(request);
    } catch (const Error &error) {
      return error.what();
    }
    ADD_FAILURE() << request.path << " opened";
    return "";
  }

  /// Field `field` of example `index`, as T values.
  template <typename T>
  static std::vector<T> read(const PredictInput &input, int64_t index,
                             size_t field) {
    std::vector<std::string> rows;
    std::vector<void *> pointers;
    for (const data::Field &f : input.fields)
      rows.emplace_back(f.numBytes(), '\0');
    for (std::string &row : rows)
      pointers.push_back(row.data());
    std::string error;
    EXPECT_TRUE(input.examples->read(index, pointers.data(), error)) << error;
    std::vector<T> values(rows.at(field).size() / sizeof(T));
    std::memcpy(values.data(), rows[field].data(), rows[field].size());
    return values;
  }

  static DataSource source(const std::string &kind,
                           std::map<std::string, data::ArgumentValue> args) {
    return DataSource{kind, data::Arguments(std::move(args)), kind + "(...)"};
  }
  static DataSource csvSource(Strings features = {}, bool standardize = false,
                              const std::string &delimiter = ",") {
    return source("csv", {{"train", std::string("train.csv")},
                          {"test", std::string()},
                          {"label", std::string("species")},
                          {"features", std::move(features)},
                          {"standardize", standardize},
                          {"delimiter", delimiter}});
  }

  fs::path dir;
  DataSource recipe = source("tensors", {{"train", std::string("t.npz")},
                                         {"test", std::string()},
                                         {"scale", 1.0 / 255}});
};

std::string
npzOf(const std::vector<std::pair<std::string, std::string>> &npys) {
  std::vector<Member> members;
  for (const auto &[name, bytes] : npys)
    members.push_back(Member{name + ".npy", bytes});
  return zip(members);
}

const std::vector<uint8_t> kPixels = {0, 1, 128, 255, 7, 51, 102, 254};
const std::vector<int64_t> kLabels = {2, 0};

float scaled(uint8_t value, double scale) {
  return static_cast<float>(value * scale);
}

//===----------------------------------------------------------------------===//
// Arrays
//===----------------------------------------------------------------------===//

TEST_F(PredictInputTest, NpzArraysWithTheRecipesScaleAndLabels) {
  write("test.npz", npzOf({{"image", npy("|u1", {2, 2, 2}, bytesOf(kPixels))},
                           {"label", npy("<i8", {2}, bytesOf(kLabels))},
                           {"extra", npy("<f4", {2}, std::string(8, '\0'))}}));
  PredictInput input = openPredictInput(request("test.npz"));
  ASSERT_EQ(input.examples->size(), 2);
  ASSERT_TRUE(input.hasLabels);
  ASSERT_EQ(input.fields.size(), 2u);
  EXPECT_EQ(input.fields[1].name, "label");
  for (int64_t e = 0; e < 2; ++e) {
    std::vector<float> image = read<float>(input, e, 0);
    for (size_t p = 0; p < 4; ++p)
      EXPECT_EQ(bitsOf(image[p]), bitsOf(scaled(kPixels[e * 4 + p], 1 / 255.)));
    EXPECT_EQ(read<int64_t>(input, e, 1), std::vector<int64_t>{kLabels[e]});
  }
  EXPECT_EQ(input.description, "tensors from " + pathOf("test.npz") +
                                   " (image u8[2, 2, 2], label i64[2])");
  EXPECT_EQ(input.notes, Strings{"arrays that no input of the model takes, "
                                 "ignored: 'extra'"});
  EXPECT_TRUE(input.exampleNames.empty());
}

TEST_F(PredictInputTest, ScaleFlagOverridesTheRecipe) {
  write("test.npz",
        npzOf({{"image", npy("|u1", {2, 2, 2}, bytesOf(kPixels))}}));
  PredictRequest flagged = request("test.npz");
  flagged.scale = 0.5;
  EXPECT_EQ(read<float>(openPredictInput(flagged), 1, 0),
            (std::vector<float>{3.5f, 25.5f, 51, 127}));
  // No recipe, or one without a scale: the values as they are.
  PredictRequest bare = request("test.npz");
  bare.recipeData = nullptr;
  EXPECT_EQ(read<float>(openPredictInput(bare), 1, 0),
            (std::vector<float>{7, 51, 102, 254}));
}

TEST_F(PredictInputTest, LabelsAreReadOnlyWhenTheFileHasThem) {
  write("test.npz",
        npzOf({{"image", npy("|u1", {2, 2, 2}, bytesOf(kPixels))}}));
  PredictInput input = openPredictInput(request("test.npz"));
  EXPECT_FALSE(input.hasLabels);
  EXPECT_EQ(input.fields.size(), 1u);
  EXPECT_EQ(input.notes, Strings{"no array 'label' in " + pathOf("test.npz") +
                                 ": predicting without labels, so without "
                                 "accuracy"});
  // Without a metric there is no label to look for.
  input = openPredictInput(
      request("test.npz", {f32("image", {1, 2, 2})}, std::nullopt));
  EXPECT_TRUE(input.notes.empty());
}

TEST_F(PredictInputTest, SafetensorsAndDirectoriesOfNpyFiles) {
  std::vector<float> values = {0.5f, -1.25f, 3, 1e-8f, 7, 8, 9, 10};
  write("test.safetensors",
        safetensors({{"image", "F32", {2, 2, 2}, bytesOf(values)},
                     {"label", "I64", {2}, bytesOf(kLabels)}}));
  write("arrays/image.npy", npy("<f4", {2, 2, 2}, bytesOf(values)));
  write("arrays/label.npy", npy("<i8", {2}, bytesOf(kLabels)));
  write("arrays/notes.txt", "not an array");
  for (const char *name : {"test.safetensors", "arrays"}) {
    PredictRequest unscaled = request(name);
    unscaled.scale = 1;
    PredictInput input = openPredictInput(unscaled);
    EXPECT_TRUE(input.hasLabels) << name;
    EXPECT_EQ(read<float>(input, 0, 0),
              (std::vector<float>{0.5f, -1.25f, 3, 1e-8f}));
    EXPECT_EQ(read<int64_t>(input, 1, 1), std::vector<int64_t>{0});
    EXPECT_EQ(input.description.rfind("tensors from " + pathOf(name), 0), 0u);
  }
}

TEST_F(PredictInputTest, ArraysMustFitTheInputs) {
  write("names.npz", npzOf({{"x", npy("<f4", {1, 4}, std::string(16, '\0'))},
                            {"y", npy("<i8", {1}, std::string(8, '\0'))}}));
  EXPECT_EQ(failure(request("names.npz")),
            pathOf("names.npz") +
                ": no array 'image' for the model's input 'image'; it has "
                "'x', 'y'. Arrays go to the model's inputs by name: rename "
                "the array (numpy.savez(path, image=...)) or the input");

  write(
      "shape.npz",
      npzOf({{"image", npy("<f4", {2, 5}, bytesOf(std::vector<float>(10)))}}));
  EXPECT_CONTAINS(failure(request("shape.npz")),
                  pathOf("shape.npz") + ": member 'image.npy', byte ",
                  "array 'image' has shape [2, 5], whose examples are [5], "
                  "but the model's input 'image' takes [1, 2, 2] per example");

  write(
      "range.npz",
      npzOf({{"image", npy("|u1", {2, 2, 2}, bytesOf(kPixels))},
             {"label", npy("<i8", {2}, bytesOf(std::vector<int64_t>{1, 3}))}}));
  EXPECT_CONTAINS(failure(request("range.npz")),
                  "example 1 of array 'label' holds 3, outside [0, 3) that "
                  "the model's input 'label' takes");

  write("float.npz", npzOf({{"image", npy("|u1", {2, 2, 2}, bytesOf(kPixels))},
                            {"label", npy("<f4", {2}, std::string(8, '\0'))}}));
  EXPECT_CONTAINS(failure(request("float.npz")),
                  "array 'label' holds f32 values, but the model's input "
                  "'label' takes i64 integers");
}

TEST_F(PredictInputTest, ANpyFileIsTheOnlyInput) {
  std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8};
  write("x.npy", npy("<f4", {2, 4}, bytesOf(values)));
  PredictRequest one = request("x.npy", {f32("x", {4})});
  one.scale = 2;
  PredictInput input = openPredictInput(one);
  EXPECT_FALSE(input.hasLabels);
  ASSERT_EQ(input.examples->size(), 2);
  EXPECT_EQ(read<float>(input, 1, 0), (std::vector<float>{10, 12, 14, 16}));
  EXPECT_EQ(input.description,
            "an array from " + pathOf("x.npy") + " (x f32[2, 4])");

  // Told by its first bytes when the name does not say.
  write("x.data", npy("<f4", {2, 4}, bytesOf(values)));
  EXPECT_EQ(
      openPredictInput(request("x.data", {f32("x", {4})})).examples->size(), 2);

  EXPECT_EQ(failure(request("x.npy", {f32("x", {4}), f32("mask", {4})})),
            pathOf("x.npy") +
                ": a .npy file holds one unnamed array, but the model's "
                "forward reads 2 inputs ('x' f32[4], 'mask' f32[4]); save the "
                "arrays together with numpy.savez(\"data.npz\", NAME=...) for "
                "each input, or give a directory of NAME.npy files");
  EXPECT_CONTAINS(failure(request("x.npy", {f32("x", {3})})),
                  pathOf("x.npy") + ": byte ",
                  "has shape [2, 4], whose examples are [4], but the model's "
                  "input 'x' takes [3] per example");
}

//===----------------------------------------------------------------------===//
// Tables
//===----------------------------------------------------------------------===//

/// The inputs of a classifier of 2 features into 3 classes.
std::vector<data::Field> tableInputs() { return {f32("x", {2})}; }

TEST_F(PredictInputTest, ATableAsTheRecipesCsvReadsIt) {
  recipe = csvSource({"b", "a"});
  write("test.csv", "id,a,b,species\nfirst,1.5,2,virginica\n"
                    "second,-3,4e2,setosa\n");
  PredictRequest table = request("test.csv", tableInputs());
  table.metadata["data.classes"] =
      "[\"setosa\", \"versicolor\", \"virginica\"]";
  PredictInput input = openPredictInput(table);
  ASSERT_TRUE(input.hasLabels);
  ASSERT_EQ(input.examples->size(), 2);
  EXPECT_EQ(read<float>(input, 0, 0), (std::vector<float>{2, 1.5f}));
  EXPECT_EQ(read<float>(input, 1, 0), (std::vector<float>{400, -3}));
  EXPECT_EQ(read<int64_t>(input, 0, 1), std::vector<int64_t>{2});
  EXPECT_EQ(read<int64_t>(input, 1, 1), std::vector<int64_t>{0});
  EXPECT_EQ(input.description, "csv table " + pathOf("test.csv") +
                                   " (2 features, labels 'species')");

  // Without the label column: the same features, no labels.
  write("nolabel.csv", "a,b\n1.5,2\n");
  input = openPredictInput(request("nolabel.csv", tableInputs()));
  EXPECT_FALSE(input.hasLabels);
  EXPECT_EQ(read<float>(input, 0, 0), (std::vector<float>{2, 1.5f}));
  EXPECT_EQ(input.notes, Strings{pathOf("nolabel.csv") +
                                 " has no column 'species': predicting "
                                 "without labels, so without accuracy"});
}

TEST_F(PredictInputTest, IntegerLabelsAreTheClassIds) {
  recipe = csvSource();
  write("test.csv", "a,species,b\n1,2,3\n4,0,5\n");
  PredictInput input = openPredictInput(request("test.csv", tableInputs()));
  EXPECT_EQ(read<float>(input, 1, 0), (std::vector<float>{4, 5}));
  EXPECT_EQ(read<int64_t>(input, 0, 1), std::vector<int64_t>{2});

  write("text.csv", "a,species,b\n1,2,3\n4,setosa,5\n");
  EXPECT_EQ(failure(request("text.csv", tableInputs())),
            pathOf("text.csv") +
                ": row 3, column 2 ('species'): the label 'setosa' is not a "
                "class id, and the model's classes are ids (its training "
                "labels were integers: the checkpoint has no data.classes); "
                "correct the label, or leave out the column 'species' to "
                "predict without accuracy");
  write("large.csv", "a,species,b\n1,3,3\n");
  EXPECT_CONTAINS(failure(request("large.csv", tableInputs())),
                  "row 2, column 2 ('species'): class 3 is not below 3, the "
                  "number of the model's classes");
}

TEST_F(PredictInputTest, AnUnknownClassIsAnError) {
  recipe = csvSource();
  write("test.csv", "a,b,species\n1,2,setosa\n3,4,iris\n");
  PredictRequest table = request("test.csv", tableInputs());
  table.metadata["data.classes"] =
      "[\"setosa\", \"versicolor\", \"virginica\"]";
  EXPECT_EQ(failure(table),
            pathOf("test.csv") +
                ": row 3, column 3 ('species'): the label 'iris' is not one of "
                "the model's 3 classes (setosa, versicolor, virginica, as the "
                "checkpoint's data.classes names them); correct the label, or "
                "leave out the column 'species' to predict without accuracy");
  table.metadata["data.classes"] = "{\"setosa\": 0}";
  EXPECT_CONTAINS(failure(table), "the checkpoint's metadata data.classes is "
                                  "not a JSON list of class names");
}

TEST_F(PredictInputTest, StandardizedAsTheTrainingTableWas) {
  // The csv source standardizes its training table and records how.
  write("train.csv", "a,b,species\n1,5,0\n2,5,1\n3,5,0\n6,5,1\n");
  write("test.csv", "a,b,species\n4,7,0\n-1e3,5,2\n");
  recipe = csvSource({}, true);
  // Its test split is what predict must give for the same table.
  std::map<std::string, data::ArgumentValue> args = recipe.args.all();
  args["test"] = std::string("test.csv");
  data::SourceRequest training{
      data::Arguments(args), {f32("x", {2}), i64("y", {}, 3)}, dir.string()};
  data::OpenedSource opened;
  std::string error;
  ASSERT_TRUE(data::findSource("csv")->open(training, opened, error)) << error;

  PredictRequest table = request("test.csv", tableInputs());
  table.metadata = opened.metadata;
  PredictInput input = openPredictInput(table);
  for (int64_t e = 0; e < 2; ++e) {
    float expected[2];
    int64_t label;
    void *rows[] = {expected, &label};
    ASSERT_TRUE(opened.test->read(e, rows, error)) << error;
    std::vector<float> got = read<float>(input, e, 0);
    EXPECT_EQ(bitsOf(got[0]), bitsOf(expected[0]));
    EXPECT_EQ(bitsOf(got[1]), bitsOf(expected[1]));
    EXPECT_EQ(read<int64_t>(input, e, 1), std::vector<int64_t>{label});
  }
  EXPECT_FLOAT_EQ(read<float>(input, 0, 0)[0], float(1 / std::sqrt(3.5)));

  table.metadata.clear();
  EXPECT_EQ(failure(table),
            pathOf("test.csv") +
                ": the recipe standardizes the features (standardize: true), "
                "but the checkpoint has no data.standardize, the training "
                "table's means and deviations");
  table.metadata["data.standardize"] = "{\"mean\": [1], \"std\": [2]}";
  EXPECT_CONTAINS(failure(table),
                  ": the table has 2 feature columns, but the checkpoint's "
                  "data.standardize has the means of 1");
}

TEST_F(PredictInputTest, AnyRecipeReadsEveryColumnAsAFeature) {
  write("test.tsv", "p\tq\n1\t2\n3\t4.5\n");
  PredictInput input = openPredictInput(request("test.tsv", tableInputs()));
  EXPECT_FALSE(input.hasLabels);
  EXPECT_EQ(read<float>(input, 1, 0), (std::vector<float>{3, 4.5f}));
  EXPECT_EQ(input.description,
            "csv table " + pathOf("test.tsv") + " (2 features)");

  write("wide.csv", "p,q,species\n1,2,0\n");
  EXPECT_EQ(failure(request("wide.csv", tableInputs())),
            pathOf("wide.csv") +
                ": row 1: the table has 3 feature columns (p, q, species), "
                "but the model's input 'x' takes 2; give a table of those "
                "columns alone");
  write("missing.csv", "p,q\n1,\n");
  EXPECT_CONTAINS(failure(request("missing.csv", tableInputs())),
                  pathOf("missing.csv") +
                      ": row 2, column 2 ('q'): missing value (the cell is "
                      "empty)");
  write("empty.csv", "p,q\n");
  EXPECT_CONTAINS(failure(request("empty.csv", tableInputs())),
                  "the table has a header (row 1) but no data rows");
  EXPECT_CONTAINS(failure(request("wide.csv")),
                  "a table fills the model's input with the features of a "
                  "row, f32[F], but 'image' is f32[1, 2, 2]");
}

//===----------------------------------------------------------------------===//
// Images
//===----------------------------------------------------------------------===//

TEST_F(PredictInputTest, ImagesInTheDirectoryItself) {
  write("pictures/b.png", png(2, 2, 1, {0, 51, 102, 255}));
  write("pictures/a.pgm", pnm("P5", 2, 2, {9, 8, 7, 6}));
  write("pictures/readme.txt", "not an image");
  PredictInput input = openPredictInput(request("pictures"));
  EXPECT_FALSE(input.hasLabels);
  EXPECT_EQ(input.exampleNames, (Strings{"a.pgm", "b.png"}));
  EXPECT_EQ(read<float>(input, 0, 0),
            (std::vector<float>{unit(9), unit(8), unit(7), unit(6)}));
  EXPECT_EQ(read<float>(input, 1, 0),
            (std::vector<float>{unit(0), unit(51), unit(102), unit(255)}));
  EXPECT_EQ(input.description,
            "images from " + pathOf("pictures") + " (2 files)");
  EXPECT_EQ(input.notes,
            Strings{pathOf("pictures") + ": the images are not in class "
                                         "folders: predicting without labels "
                                         "'label', so without accuracy"});
}

TEST_F(PredictInputTest, ClassFoldersByTheCheckpointsClasses) {
  write("pictures/cat/1.png", png(2, 2, 1, {1, 2, 3, 4}));
  write("pictures/dog/x/2.png", png(2, 2, 1, {5, 6, 7, 8}));
  write("pictures/dog/1.png", png(2, 2, 1, {9, 10, 11, 12}));
  PredictRequest folders = request("pictures/");
  folders.metadata["data.classes"] = "[\"dog\", \"bird\", \"cat\"]";
  PredictInput input = openPredictInput(folders);
  ASSERT_TRUE(input.hasLabels);
  EXPECT_EQ(input.exampleNames,
            (Strings{"cat/1.png", "dog/1.png", "dog/x/2.png"}));
  EXPECT_EQ(read<int64_t>(input, 0, 1), std::vector<int64_t>{2});
  EXPECT_EQ(read<int64_t>(input, 2, 1), std::vector<int64_t>{0});
  EXPECT_EQ(read<float>(input, 1, 0)[3], unit(12));
  EXPECT_EQ(input.description,
            "images from " + pathOf("pictures") + " (2 classes, 3 files)");

  // Without data.classes: torchvision's ids, the sorted folder names.
  folders.metadata.clear();
  input = openPredictInput(folders);
  EXPECT_EQ(read<int64_t>(input, 0, 1), std::vector<int64_t>{0});
  EXPECT_EQ(read<int64_t>(input, 2, 1), std::vector<int64_t>{1});

  // Folders that number the classes instead of naming them ("T-shirt/top"
  // cannot name a folder): the sorted order too, with a note.
  folders.metadata["data.classes"] = "[\"Dog\", \"Cat\"]";
  input = openPredictInput(folders);
  EXPECT_EQ(read<int64_t>(input, 0, 1), std::vector<int64_t>{0});
  EXPECT_EQ(read<int64_t>(input, 2, 1), std::vector<int64_t>{1});
  EXPECT_EQ(input.notes,
            Strings{"labels: the class folders' ids in sorted order (no folder "
                    "is named after one of the checkpoint's data.classes)"});

  // Some folders named after the classes and one not: a misspelt folder.
  folders.metadata["data.classes"] = "[\"dog\", \"bird\"]";
  EXPECT_EQ(failure(folders),
            pathOf("pictures") +
                "/cat: the class folder 'cat' is not one of the model's 2 "
                "classes ('dog', 'bird', as the checkpoint's data.classes "
                "names them), while other folders are; rename it, or give "
                "the images without class folders to predict without "
                "accuracy");
  // Without a metric the folders are read, but not as labels.
  input = openPredictInput(
      request("pictures", {f32("image", {1, 2, 2})}, std::nullopt));
  EXPECT_FALSE(input.hasLabels);
  EXPECT_EQ(input.fields.size(), 1u);
}

TEST_F(PredictInputTest, ImagesMustFitTheInput) {
  write("pictures/a.png", png(2, 2, 1, {1, 2, 3, 4}));
  EXPECT_EQ(failure(request("pictures", {f32("image", {4})})),
            pathOf("pictures") +
                ": images fill an input f32[C, H, W] with C 1 (grey) or 3 "
                "(RGB), but the model's input 'image' is f32[4]; give the "
                "examples as a .npz archive with an array 'image'");
  EXPECT_CONTAINS(
      failure(request("pictures", {f32("image", {1, 2, 2}), f32("x", {2})})),
      "a directory of images fills one input, the images f32[C, H, W], but "
      "the model's forward reads 2 ('image' f32[1, 2, 2], 'x' f32[2])");
  write("pictures/broken.png", "not a png");
  EXPECT_CONTAINS(failure(request("pictures")),
                  pathOf("pictures/broken.png") +
                      ": byte 0: not an image that stb_image reads");
}

//===----------------------------------------------------------------------===//
// Kinds
//===----------------------------------------------------------------------===//

TEST_F(PredictInputTest, WhatIsNotReadSaysWhatIs) {
  write("notes.txt", "hello, world");
  EXPECT_CONTAINS(failure(request("notes.txt")),
                  pathOf("notes.txt") +
                      ": byte 0: not a kind of file that predict reads",
                  "a .npz archive, a .safetensors file or a directory of "
                  "NAME.npy files",
                  ".csv or .tsv table", "a directory of images");
  EXPECT_CONTAINS(failure(request("nowhere.npz")),
                  pathOf("nowhere.npz") +
                      ": cannot open it (No such file or directory); give "
                      "the file or directory of the examples to predict");
  fs::create_directories(dir / "empty");
  write("empty/readme.txt", "nothing");
  EXPECT_CONTAINS(failure(request("empty")),
                  pathOf("empty") + ": the directory holds no .npy files, no "
                                    "images and no folders");
  write("one.png", png(2, 2, 1, {1, 2, 3, 4}));
  EXPECT_CONTAINS(failure(request("one.png")),
                  "predict reads images from a directory");
}

} // namespace
