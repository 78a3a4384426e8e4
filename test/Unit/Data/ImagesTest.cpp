//===- ImagesTest.cpp - The images(...) source ----------------------------===//
//
// Image folders written here (ImagesTesting.h makes the files): decoding
// and resizing, torchvision's order of classes and files, the test split's
// classes, every error message, and reads from two threads. The transforms
// are in TransformsTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "ImagesTesting.h"

#include "data/ImageFolder.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

TEST_F(ImagesTest, DecodesRgbPngToChannelsFirstFloats) {
  Bytes rgb = {255, 128, 0, 1, 2, 3, 10, 20, 30, 40, 50, 60}; // 2 x 2
  std::vector<float> out = decode(write("a.png", png(2, 2, 3, rgb)), 3, 2, 2);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p)
      EXPECT_EQ(out[c * 4 + p], unit(rgb[p * 3 + c])) << c << " " << p;
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[8], 0.0f);
}

TEST_F(ImagesTest, GreyBecomesRgbAndRgbBecomesGrey) {
  std::string grey = write("g.pgm", pnm("P5", 2, 1, {7, 200}));
  EXPECT_EQ(decode(grey, 1, 1, 2), (std::vector<float>{unit(7), unit(200)}));
  EXPECT_EQ(decode(grey, 3, 1, 2),
            (std::vector<float>{unit(7), unit(200), unit(7), unit(200), unit(7),
                                unit(200)}));
  // stb's luma: (77 r + 150 g + 29 b) >> 8.
  std::string rgb =
      write("c.ppm", pnm("P6", 3, 1, {255, 0, 0, 0, 255, 0, 0, 0, 255}));
  EXPECT_EQ(decode(rgb, 1, 1, 3),
            (std::vector<float>{unit(255 * 77 >> 8), unit(255 * 150 >> 8),
                                unit(255 * 29 >> 8)}));
}

TEST_F(ImagesTest, DropsAlpha) {
  std::string path = write("a.png", png(1, 1, 4, {9, 99, 199, 50}));
  EXPECT_EQ(decode(path, 3, 1, 1),
            (std::vector<float>{unit(9), unit(99), unit(199)}));
}

TEST_F(ImagesTest, DecodesBmpTgaGifJpegAndSixteenBitPgm) {
  Bytes rgb = pattern(2 * 3 * 3);
  std::vector<float> expected(rgb.size());
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 6; ++p)
      expected[c * 6 + p] = unit(rgb[p * 3 + c]);
  EXPECT_EQ(decode(write("a.bmp", encode(Format::Bmp, 3, 2, 3, rgb)), 3, 2, 3),
            expected);
  EXPECT_EQ(decode(write("a.tga", encode(Format::Tga, 3, 2, 3, rgb)), 3, 2, 3),
            expected);
  EXPECT_EQ(decode(write("r.tga", encode(Format::RunLengthTga, 3, 2, 3, rgb)),
                   3, 2, 3),
            expected);

  Bytes palette = {0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30};
  std::vector<float> colors =
      decode(write("a.gif", gif(2, 2, palette, {3, 1, 2, 0})), 3, 2, 2);
  EXPECT_EQ(colors, (std::vector<float>{unit(10), 1, 0, 0, unit(20), 0, 1, 0,
                                        unit(30), 0, 0, 0}));

  Bytes flat(8 * 8 * 3);
  for (size_t i = 0; i < flat.size(); ++i)
    flat[i] = i % 3 == 0 ? 200 : 40;
  for (float value :
       decode(write("a.jpg", encode(Format::Jpeg, 8, 8, 3, flat)), 1, 8, 8))
    EXPECT_NEAR(value, unit((200 * 77 + 40 * 150 + 40 * 29) >> 8), 3 / 255.0);

  // Samples from 0 to the header's maximum, in 16 bits (big-endian) above
  // 255.
  std::string wide = "P5 2 1 65535\n";
  wide += std::string("\x12\x34\xAB\xCD", 4);
  EXPECT_EQ(decode(write("w.pgm", wide), 1, 1, 2),
            (std::vector<float>{unit(0x1234 * 255 / 65535),
                                unit(0xABCD * 255 / 65535)}));
  std::string ten = "P6 1 1 1023\n";
  ten += std::string("\x03\xFF\x02\x00\x00\x01", 6);
  EXPECT_EQ(decode(write("t.ppm", ten), 3, 1, 1),
            (std::vector<float>{1, unit(128), 0}));
  EXPECT_EQ(decode(write("h.pgm", "P5 2 1 100\n\x32\x64"), 1, 1, 2),
            (std::vector<float>{unit(128), 1}));
}

TEST_F(ImagesTest, ResizesToTheCompiledSize) {
  Bytes flat(4 * 4 * 3);
  for (size_t i = 0; i < flat.size(); ++i)
    flat[i] = i % 3 == 0 ? 30 : i % 3 == 1 ? 130 : 230;
  std::string path = write("flat.png", png(4, 4, 3, flat));
  std::vector<float> small = decode(path, 3, 2, 3);
  ASSERT_EQ(small.size(), 3u * 2 * 3);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 6; ++p)
      EXPECT_NEAR(small[c * 6 + p], unit(30 + 100 * c), 1 / 255.0);

  // A left-to-right ramp stays one when enlarged.
  Bytes ramp = {0, 85, 170, 255};
  std::vector<float> large =
      decode(write("ramp.pgm", pnm("P5", 4, 1, ramp)), 1, 3, 8);
  for (int y = 0; y < 3; ++y) {
    EXPECT_NEAR(large[y * 8], 0, 0.05);
    EXPECT_NEAR(large[y * 8 + 7], 1, 0.05);
    for (int x = 1; x < 8; ++x)
      EXPECT_GE(large[y * 8 + x], large[y * 8 + x - 1]);
  }
}

//===----------------------------------------------------------------------===//
// Scanning folders
//===----------------------------------------------------------------------===//

TEST_F(ImagesTest, ScansClassesAndFilesInTorchvisionOrder) {
  writeGrey("train/dog/1.pgm");
  writeGrey("train/cat/b.pgm");
  writeGrey("train/cat/a.PGM");
  writeGrey("train/cat/a/z.pgm");
  writeGrey("train/cat/a-c/y.pgm");
  writeGrey("train/cat/a/b/x.pgm");
  writeGrey("train/Bird/deep/er/er/q.pgm");
  write("train/cat/notes.txt", "not an image");
  write("train/cat/scan.tif", "II*");
  writeGrey("train/top.pgm");
  ImageFolder folder;
  std::string error;
  ASSERT_TRUE(scanImageFolder(root + "/train/", nullptr, folder, error))
      << error;
  EXPECT_EQ(folder.root, root + "/train");
  EXPECT_EQ(folder.classes, (std::vector<std::string>{"Bird", "cat", "dog"}));
  std::string r = root + "/train/";
  // Sorted by folder ("cat" < "cat/a" < "cat/a-c" < "cat/a/b"), then name.
  EXPECT_EQ(folder.paths,
            (std::vector<std::string>{r + "Bird/deep/er/er/q.pgm",
                                      r + "cat/a.PGM", r + "cat/b.pgm",
                                      r + "cat/a/z.pgm", r + "cat/a-c/y.pgm",
                                      r + "cat/a/b/x.pgm", r + "dog/1.pgm"}));
  EXPECT_EQ(folder.labels, (std::vector<int64_t>{0, 1, 1, 1, 1, 1, 2}));
  ASSERT_EQ(folder.notes.size(), 1u);
  EXPECT_TRUE(contains(folder.notes[0], "ignored 1 .tif, .tiff or .webp"));
  EXPECT_TRUE(contains(folder.notes[0], r + "cat/scan.tif"));
  EXPECT_TRUE(contains(folder.notes[0], "convert them to PNG"));
}

TEST_F(ImagesTest, FollowsSymbolicLinksButNotLoops) {
  writeGrey("elsewhere/far.pgm");
  writeGrey("train/cat/near.pgm");
  fs::create_directory_symlink(root + "/elsewhere", root + "/train/cat/link");
  fs::create_directory_symlink(root + "/train/cat", root + "/train/cat/loop");
  fs::create_directory_symlink(root + "/train", root + "/train/cat/up");
  fs::create_symlink(root + "/nothing", root + "/train/cat/gone.txt");
  ImageFolder folder;
  std::string error;
  ASSERT_TRUE(scanImageFolder(root + "/train", nullptr, folder, error))
      << error;
  EXPECT_EQ(folder.paths,
            (std::vector<std::string>{root + "/train/cat/near.pgm",
                                      root + "/train/cat/link/far.pgm"}));
  ASSERT_EQ(folder.notes.size(), 2u);
  EXPECT_EQ(folder.notes[0], root + "/train/cat/loop: a symbolic link back "
                                    "to a folder above it, not followed "
                                    "again");
  EXPECT_TRUE(contains(folder.notes[1], root + "/train/cat/up: a symbolic"));

  fs::create_symlink(root + "/nothing", root + "/train/cat/gone.png");
  EXPECT_EQ(scanError("train"),
            root + "/train/cat/gone.png: cannot open it (No such file or "
                   "directory: a symbolic link to nothing); fix it, or move "
                   "it out of the image folder");
}

TEST_F(ImagesTest, TestClassesTakeTheTrainingIds) {
  std::vector<std::string> trainClasses = {"cat", "dog", "emu"};
  writeGrey("test/emu/1.pgm");
  writeGrey("test/cat/1.pgm");
  ImageFolder folder;
  std::string error;
  ASSERT_TRUE(scanImageFolder(root + "/test", &trainClasses, folder, error))
      << error;
  EXPECT_EQ(folder.classes, (std::vector<std::string>{"cat", "emu"}));
  EXPECT_EQ(folder.labels, (std::vector<int64_t>{0, 2}));

  writeGrey("test/bird/1.pgm");
  EXPECT_FALSE(scanImageFolder(root + "/test", &trainClasses, folder, error));
  EXPECT_EQ(error, root + "/test/bird: the test split has the class 'bird', "
                          "which the training split has not (its classes: "
                          "'cat', 'dog', 'emu'); give every test class a "
                          "training folder of the same name, or move this "
                          "one out");
}

TEST_F(ImagesTest, FolderErrors) {
  EXPECT_EQ(scanError("missing"),
            root + "/missing: cannot open the folder (No such file or "
                   "directory); give the folder of the images: images(...) "
                   "reads ROOT/CLASS/IMAGE, one folder of images per class "
                   "(as torchvision's ImageFolder)");
  writeGrey("flat/a.pgm");
  EXPECT_TRUE(contains(scanError("flat/a.pgm"), "/flat/a.pgm: not a folder; "
                                                "images(...) reads ROOT/"));
  EXPECT_TRUE(contains(scanError("flat"),
                       "/flat: the folder has no class folders; images(...) "
                       "reads ROOT/CLASS/IMAGE"));

  writeGrey("train/cat/a.pgm");
  write("train/dog/a.txt", "text");
  fs::create_directories(root + "/train/emu/sub");
  EXPECT_EQ(scanError("train"),
            root + "/train: no image in the class folders 'dog', 'emu'; "
                   "images(...) reads files ending in .png .jpg .jpeg .bmp "
                   ".ppm .pgm .tga .gif (in any case), in the class folder "
                   "or below it: add images, or move the folder out");
}

TEST_F(ImagesTest, UnreadableFolderAndFile) {
  // Root reads every file, so the child below reads as nobody: the fixture
  // must then lie where nobody can reach it, not in a test runner's private
  // temporary directory.
  if (::geteuid() == 0) {
    fs::remove_all(root);
    std::string pattern = "/tmp/kiln-images-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root = pattern;
  }
  writeGrey("train/cat/a.pgm");
  writeGrey("train/dog/b.pgm");
  fs::create_directories(root + "/train/dog/locked");
  fs::permissions(root + "/train/dog/locked", fs::perms::none);
  fs::permissions(root + "/train/cat/a.pgm", fs::perms::none);
  std::string folder, file;
  if (::geteuid() == 0) {
    fs::permissions(root, fs::perms::all);
    int pipe[2];
    ASSERT_EQ(::pipe(pipe), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0)
        ::_exit(1);
      std::string messages =
          scanError("train") + "\n" + checkError(root + "/train/cat/a.pgm");
      ::_exit(::write(pipe[1], messages.data(), messages.size()) < 0);
    }
    ::close(pipe[1]);
    std::string messages;
    char buffer[512];
    for (ssize_t got; (got = ::read(pipe[0], buffer, sizeof buffer)) > 0;)
      messages.append(buffer, got);
    ::close(pipe[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    folder = messages.substr(0, messages.find('\n'));
    file = messages.substr(messages.find('\n') + 1);
  } else {
    folder = scanError("train");
    file = checkError(root + "/train/cat/a.pgm");
  }
  fs::permissions(root + "/train/dog/locked", fs::perms::owner_all);
  EXPECT_EQ(folder, root + "/train/dog/locked: cannot open the folder "
                           "(Permission denied); make it readable, or give "
                           "another folder");
  EXPECT_EQ(file, root + "/train/cat/a.pgm: cannot open it (Permission "
                         "denied); make it readable, or move it out of the "
                         "image folder");
}

//===----------------------------------------------------------------------===//
// Files that are not images, or not whole
//===----------------------------------------------------------------------===//

TEST_F(ImagesTest, NotAnImageEmptyFifoAndHuge) {
  EXPECT_EQ(checkError(write("text.png", "hello, world")),
            root + "/text.png: byte 0: not an image that stb_image reads "
                   "(stb: unknown image type); images(...) reads PNG, JPEG "
                   "(8-bit, not arithmetic-coded), BMP (not RLE), binary PPM "
                   "and PGM, TGA and GIF: convert it (with ImageMagick: "
                   "convert FILE FILE.png), or move it out of the image "
                   "folder");
  EXPECT_EQ(checkError(write("empty.jpg", "")),
            root + "/empty.jpg: byte 0: the file is empty; copy it again, or "
                   "move it out of the image folder");

  std::string fifo = root + "/pipe.png";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(checkError(fifo),
            fifo + ": not a regular file (a FIFO, a socket or a device with "
                   "an image's name); move it out of the image folder");

  std::string huge = write("huge.png", "");
  ASSERT_EQ(::truncate(huge.c_str(), int64_t(1) << 31), 0);
  EXPECT_EQ(checkError(huge),
            huge + ": the file has 2147483648 bytes, more than the "
                   "2147483647 that stb_image reads; save it smaller (as "
                   "JPEG, say)");

  EXPECT_EQ(checkError(write("big.pgm", "P5 10000 9000 255\n")),
            root + "/big.pgm: the image is 10000 x 9000 pixels, more than "
                   "the 67108864 that images(...) decodes at once; shrink it "
                   "beforehand (with ImageMagick: mogrify -resize 4096x4096 "
                   "FILE)");
}

TEST_F(ImagesTest, TruncatedPnmBmpTgaAndGif) {
  const char *hint = "; it is truncated: copy it again, or move it out of "
                     "the image folder";
  std::string pgm = pnm("P5", 4, 3, pattern(12));
  size_t header = pgm.size() - 12;
  EXPECT_EQ(checkError(write("a.pgm", pgm.substr(0, pgm.size() - 1))),
            root + "/a.pgm: byte " + std::to_string(pgm.size() - 1) +
                ": the file ends there, but its PNM header (4 x 3 pixels "
                "of 1 byte) needs " +
                std::to_string(header + 12) + " bytes" + hint);
  std::string ppm = pnm("P6", 4, 3, pattern(36));
  EXPECT_TRUE(contains(checkError(write("a.ppm", ppm.substr(0, header + 20))),
                       "(4 x 3 pixels of 3 bytes) needs " +
                           std::to_string(header + 36) + " bytes"));

  // 3 pixels of 3 bytes, padded to 12, in each of 2 rows after 54 bytes.
  std::string image = encode(Format::Bmp, 3, 2, 3, pattern(18));
  ASSERT_EQ(image.size(), 78u);
  EXPECT_EQ(checkError(write("a.bmp", image.substr(0, 70))),
            root +
                "/a.bmp: byte 70: the file ends there, but its BMP header "
                "(pixels from byte 54, 2 rows of 12 bytes) needs 78 bytes" +
                hint);

  image = encode(Format::Tga, 3, 2, 3, pattern(18));
  EXPECT_TRUE(contains(checkError(write("a.tga", image.substr(0, 30))),
                       "/a.tga: byte 30: the file ends there, but its TGA "
                       "header (3 x 2 pixels of 3 bytes) needs 36 bytes" +
                           std::string(hint)));
  image = encode(Format::RunLengthTga, 3, 2, 3, pattern(18));
  EXPECT_TRUE(contains(checkError(write("r.tga", image.substr(0, 25))),
                       "/r.tga: byte 25: the file ends there, but its "
                       "run-length packets end after 3 of its 3 x 2 "
                       "pixels"));

  Bytes palette(12, 0);
  image = gif(2, 2, palette, {0, 1, 2, 3});
  EXPECT_EQ(checkError(write("a.gif", image.substr(0, image.size() - 4))),
            root + "/a.gif: byte " + std::to_string(image.size() - 4) +
                ": the file ends there, but its first frame's GIF blocks go "
                "on past it" +
                hint);
  EXPECT_TRUE(contains(checkError(write("b.gif", image.substr(0, 30))),
                       "byte 30: the file ends there, but its first"));
}

TEST_F(ImagesTest, DamagedPngFailsWhenRead) {
  std::string image = png(8, 8, 3, pattern(8 * 8 * 3));
  std::string path = write("train/cat/a.png", image.substr(0, 60));
  std::string error;
  EXPECT_TRUE(checkImageFile(path, error)) << error;
  std::vector<float> out(3 * 8 * 8);
  EXPECT_FALSE(decodeImage(path, 3, 8, 8, out.data(), error));
  EXPECT_TRUE(contains(error, path + ": stb_image cannot decode it (stb: "));
  EXPECT_TRUE(contains(error, "); the file is damaged: open it in an image "
                              "viewer, then save it again or move it out "
                              "of the image folder"));
}

//===----------------------------------------------------------------------===//
// The source
//===----------------------------------------------------------------------===//

TEST_F(ImagesTest, OpensTrainAndTestSplits) {
  writeGrey("train/dog/d.pgm", 20);
  writeGrey("train/cat/c1.pgm", 10);
  write("train/cat/c2.png", png(4, 4, 3, Bytes(48, 11)));
  writeGrey("test/dog/t.pgm", 30);
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(openImages(request("test"), opened, error)) << error;
  EXPECT_EQ(opened.description, "images from " + root +
                                    "/train (2 classes, 3 files) and " + root +
                                    "/test (1 class, 1 file)");
  EXPECT_EQ(opened.notes, (std::vector<std::string>{"classes: 0 cat, 1 dog"}));
  EXPECT_EQ(opened.metadata["data.classes"], "[\"cat\", \"dog\"]");
  ASSERT_EQ(opened.train->size(), 3);
  ASSERT_EQ(opened.test->size(), 1);

  std::array<float, 4> pixels;
  int64_t label = -1;
  void *rows[] = {pixels.data(), &label};
  ASSERT_TRUE(opened.train->read(0, rows, error)) << error;
  EXPECT_EQ(pixels[3], unit(10));
  EXPECT_EQ(label, 0);
  ASSERT_TRUE(opened.train->read(1, rows, error)) << error;
  EXPECT_NEAR(pixels[0], unit(11), 1 / 255.0);
  ASSERT_TRUE(opened.train->read(2, rows, error)) << error;
  EXPECT_EQ(pixels[0], unit(20));
  EXPECT_EQ(label, 1);
  ASSERT_TRUE(opened.test->read(0, rows, error)) << error;
  EXPECT_EQ(pixels[0], unit(30));
  EXPECT_EQ(label, 1);

  EXPECT_FALSE(opened.train->read(3, rows, error));
  EXPECT_EQ(error, "training example 3: the split has 3 examples, from " +
                       root + "/train");
}

TEST_F(ImagesTest, NoTestSplitAndManyClasses) {
  for (char c = 'a'; c < 'a' + 25; ++c)
    writeGrey(std::string("train/") + c + "/x.pgm");
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(openImages(request(""), opened, error)) << error;
  EXPECT_EQ(opened.description, "images from " + root +
                                    "/train (25 classes, 25 files), no test "
                                    "split");
  EXPECT_EQ(opened.test->size(), 0);
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_EQ(opened.notes[0],
            "classes: 0 a, 1 b, 2 c, 3 d, 4 e, 5 f, 6 g, 7 h, 8 i, 9 j, 10 k, "
            "11 l, 12 m, 13 n, 14 o, 15 p, 16 q, 17 r, 18 s, 19 t, ... (25 in "
            "all; the checkpoint's data.classes lists them)");
  EXPECT_TRUE(contains(opened.metadata["data.classes"],
                       "\"t\", \"u\", \"v\", \"w\", \"x\", \"y\"]"));
}

TEST_F(ImagesTest, ClassNamesAreEscapedInJson) {
  for (const char *name :
       {"quote\"", "back\\slash", "tab\t", "\xC3\xA9t\xC3\xA9", "latin\xE9",
        "\xF0\x9F\x90\x88"})
    writeGrey(std::string("train/") + name + "/x.pgm");
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(openImages(request(""), opened, error)) << error;
  EXPECT_EQ(opened.metadata["data.classes"],
            "[\"back\\\\slash\", \"latin\\udce9\", \"quote\\\"\", "
            "\"tab\\t\", \"\xC3\xA9t\xC3\xA9\", \"\xF0\x9F\x90\x88\"]");
}

TEST_F(ImagesTest, ReadsFromTwoThreads) {
  for (int i = 0; i < 12; ++i)
    write("train/" + std::string(1, char('a' + i % 3)) + "/" +
              std::to_string(i) + ".png",
          png(5, 3, 3, pattern(45, i)));
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(openImages(request("", 3, 4, 4), opened, error)) << error;
  ASSERT_EQ(opened.train->size(), 12);
  struct Reading {
    std::vector<float> pixels = std::vector<float>(12 * 48);
    std::vector<int64_t> labels = std::vector<int64_t>(12, -1);
    bool ok = true;
  };
  auto readAll = [&](Reading &reading) {
    std::string message;
    for (int round = 0; round < 5; ++round)
      for (int64_t i = 0; i < 12; ++i) {
        void *rows[] = {&reading.pixels[i * 48], &reading.labels[i]};
        reading.ok = opened.train->read(i, rows, message) && reading.ok;
      }
  };
  Reading once, first, second;
  readAll(once);
  std::thread a([&] { readAll(first); });
  std::thread b([&] { readAll(second); });
  a.join();
  b.join();
  EXPECT_TRUE(once.ok && first.ok && second.ok);
  EXPECT_EQ(first.pixels, once.pixels);
  EXPECT_EQ(second.pixels, once.pixels);
  EXPECT_EQ(first.labels, once.labels);
  EXPECT_EQ(second.labels, once.labels);
  EXPECT_EQ(once.labels[11], 2);
}

TEST_F(ImagesTest, AFileThatChangesAfterOpenFailsWhenRead) {
  std::string path = writeGrey("train/cat/a.pgm");
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(openImages(request(""), opened, error)) << error;
  write("train/cat/a.pgm", "P5 2 2 255\n\x01");
  std::array<float, 4> pixels;
  int64_t label;
  void *rows[] = {pixels.data(), &label};
  EXPECT_FALSE(opened.train->read(0, rows, error));
  EXPECT_TRUE(
      contains(error, "training example 0: " + path +
                          ": byte 12: the file ends there, but its PNM"));
  write("train/cat/a.pgm", "gone");
  EXPECT_FALSE(opened.train->read(0, rows, error));
  EXPECT_TRUE(contains(error, "training example 0: " + path +
                                  ": byte 0: not an image"));
  fs::remove(path);
  EXPECT_FALSE(opened.train->read(0, rows, error));
  EXPECT_EQ(error, "training example 0: " + path +
                       ": cannot open it (No such file or directory); make "
                       "it readable, or move it out of the image folder");
}

TEST_F(ImagesTest, ArgumentErrors) {
  writeGrey("train/cat/a.pgm");
  SourceRequest bad = request("");
  bad.args = arguments("train", "", {2, 2.5}, 1);
  EXPECT_EQ(openError(bad),
            "images(...): size is [2, 2.5]; give [height, width], two whole "
            "numbers of pixels above 0 (at most 67108864 pixels in all)");
  bad.args = arguments("train", "", {0, 2, 2}, 1);
  EXPECT_TRUE(contains(openError(bad), "size is [0, 2, 2]; give"));
  bad.args = arguments("train", "", {2, 2}, 2);
  EXPECT_EQ(openError(bad),
            "images(...): channels is 2; give 1 (grey) or 3 (RGB)");
  bad.args = arguments("", "", {2, 2}, 1);
  EXPECT_EQ(openError(bad), "images(...): train is empty; give the folder of "
                            "the training images");
}

TEST_F(ImagesTest, FieldErrors) {
  writeGrey("train/cat/a.pgm");
  writeGrey("train/dog/a.pgm");
  SourceRequest bad = request("");
  bad.fields.push_back(labelField());
  EXPECT_EQ(openError(bad),
            "images(...): the model has 3 inputs, but images(...) fills two: "
            "first the images, f32[C, H, W], then their class ids, i64[]; "
            "declare the model's inputs so");
  bad = request("");
  bad.fields[0] = imageField(3, 2, 2);
  EXPECT_EQ(openError(bad),
            "images(...): the model's input 'image' is f32[3, 2, 2], but "
            "images(...) with channels: 1 and size: [2, 2] makes f32[1, 2, "
            "2] images; make them agree (the input's type, or channels and "
            "size)");
  bad = request("");
  bad.fields[1] = {"label", io::DType::F32, {}};
  EXPECT_EQ(openError(bad),
            "images(...): the model's input 'label' is f32[], but "
            "images(...) gives one class id per image, i64[]; declare it "
            "i64[batch]");
  bad = request("");
  bad.fields[1] = labelField(1);
  EXPECT_EQ(openError(bad),
            root + "/train: 2 class folders, but the model's input 'label' "
                   "takes class ids in [0, 1); give the model 2 classes (the "
                   "size of its output), or keep 1 class folders");
  bad.fields[1] = labelField(2);
  OpenedSource opened;
  std::string error;
  EXPECT_TRUE(openImages(bad, opened, error)) << error;
}

TEST_F(ImagesTest, TestSplitErrorsComeFromTheTestFolder) {
  writeGrey("train/cat/a.pgm");
  writeGrey("test/cat/a.pgm");
  write("test/cat/b.png", "not a png");
  EXPECT_TRUE(contains(openError(request("test")),
                       root + "/test/cat/b.png: byte 0: not an image"));
  EXPECT_TRUE(contains(openError(request("nowhere")),
                       root + "/nowhere: cannot open the folder"));
}

} // namespace
