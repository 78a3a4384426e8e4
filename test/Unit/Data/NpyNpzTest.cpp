//===- NpyNpzTest.cpp - tensors(...): the .npz and .npy formats -----------===//
//
// The zip archives of .npz files, stored, deflated, ZIP64 and with data
// descriptors, damaged every way the reader checks, and the headers of .npy
// arrays, as numpy and hand-written headers lay them out. Every message must
// name the file, the member and the byte offset, and say what to do.
//
//===----------------------------------------------------------------------===//

#include "TensorsTesting.h"

#include "data/Source.h"
#include "data/TensorFiles.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/resource.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// .npz archives
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, DeflatedMembersAreInflatedAndSaySo) {
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i % 7);
  std::string member = npy("<f4", {10, 100}, bytesOf(values));
  write("c.npz", zip({{"x.npy", member, /*deflate=*/true}}));
  ASSERT_TRUE(open("c.npz", "c.npz", {f32("x", {100})})) << error;
  EXPECT_EQ(readField<float>(*opened.train, 9, 0)[99], values[999]);
  ASSERT_EQ(opened.notes.size(), 2u);
  EXPECT_EQ(opened.notes[0],
            "tensors: c.npz: deflated members 'x.npy' "
            "(numpy.savez_compressed) are held in memory, 0.0 MB in all; "
            "numpy.savez writes stored members, which are read from the file "
            "as training needs them");
}

TEST_F(TensorsTest, DataDescriptorsAndZip64Directories) {
  std::string x = npy("<i4", {2}, bytesOf<int32_t>({5, 6}));
  std::string y = npy("<f8", {2}, bytesOf<double>({0.5, 1.5}));
  for (bool zip64 : {false, true}) {
    SCOPED_TRACE(zip64);
    write("z.npz", zip({{"x.npy", x, false, /*descriptor=*/true},
                        {"y.npy", y, true, /*descriptor=*/true}},
                       zip64));
    ASSERT_TRUE(open("z.npz", "", {i64("x", {}), f32("y", {})})) << error;
    EXPECT_EQ(readField<int64_t>(*opened.train, 1, 0), std::vector<int64_t>{6});
    EXPECT_EQ(readField<float>(*opened.train, 1, 1), std::vector<float>{1.5});
  }
}

TEST_F(TensorsTest, NpzErrors) {
  std::string x = npy("<f4", {1}, bytesOf<float>({1}));
  std::vector<Field> xs = {f32("x", {})};
  auto fails = [&](const std::string &archive) {
    write("bad.npz", archive);
    return openError("bad.npz", xs);
  };
  std::string path = pathOf("bad.npz");

  std::string archive = zip({{"x.npy", x}});
  std::string error = fails(archive.substr(0, archive.size() - 3));
  EXPECT_CONTAINS(error,
                  path + ": byte " + std::to_string(archive.size() - 3) +
                      ": no zip end-of-central-directory record",
                  "truncated or not a .npz archive",
                  "save it again with numpy.savez");

  Member encrypted{"x.npy", x};
  encrypted.flags = 1;
  archive = zip({encrypted});
  error = fails(archive);
  EXPECT_EQ(error, path + ": member 'x.npy', byte " +
                       std::to_string(offsetOf(archive, "PK\x01\x02")) +
                       ": the member is encrypted, which Kiln cannot read; "
                       "save the arrays with numpy.savez, without a password");

  Member bzip{"x.npy", x};
  bzip.method = 12;
  error = fails(zip({bzip}));
  EXPECT_CONTAINS(error, "member 'x.npy', byte ", "zip method 12",
                  "numpy.savez or numpy.savez_compressed");

  error = fails(zip({{"x.npy", x}, {"notes.txt", "hello"}}));
  EXPECT_CONTAINS(error, "member 'notes.txt', byte ", "not a NAME.npy array");

  archive = zip({{"x.npy", x}, {"x.npy", x}});
  error = fails(archive);
  EXPECT_EQ(error, path + ": byte " +
                       std::to_string(offsetOf(archive, "PK\x01\x02", 1)) +
                       ": the zip archive is damaged (member 'x.npy' appears "
                       "twice); save it again with numpy.savez");

  // A central directory that points at the wrong local header.
  archive = zip({{"x.npy", x}});
  archive[0] = 'Q';
  error = fails(archive);
  EXPECT_CONTAINS(error, path + ": byte 0: the zip archive is damaged (no "
                                "local header of member 'x.npy'");

  archive = zip({{"x.npy", x}});
  uint64_t end = offsetOf(archive, "PK\x05\x06");
  archive[end + 4] = 1;
  error = fails(archive);
  EXPECT_EQ(error, path + ": byte " + std::to_string(end) +
                       ": the zip archive spans several disks; join its "
                       "parts into one file (or save it again with "
                       "numpy.savez)");

  archive = zip({{"x.npy", x}}, /*zip64Directory=*/true);
  uint64_t locator = offsetOf(archive, "PK\x06\x07");
  archive[locator] = 'Q';
  error = fails(archive);
  EXPECT_CONTAINS(error, "the end record asks for ZIP64 but no ZIP64 locator");

  archive = zip({{"x.npy", x}});
  archive.insert(offsetOf(archive, "PK\x05\x06"), "junk");
  error = fails(archive);
  EXPECT_CONTAINS(error, "the central directory does not end where the end "
                         "record begins");

  Member stored{"x.npy", x};
  stored.uncompressed = x.size() + 1;
  error = fails(zip({stored}));
  EXPECT_CONTAINS(error, "stored member 'x.npy' has different compressed");
}

/// Damage to the zip structures, each found where it lies.
TEST_F(TensorsTest, DamagedZipStructures) {
  std::string x = npy("<f4", {1}, bytesOf<float>({1}));
  std::string path = pathOf("bad.npz");
  auto damaged = [&](const std::string &archive, uint64_t at,
                     const std::string &what) {
    write("bad.npz", archive);
    EXPECT_EQ(openError("bad.npz", {f32("x", {})}),
              path + ": byte " + std::to_string(at) +
                  ": the zip archive is damaged (" + what +
                  "); save it again with numpy.savez");
  };
  auto patch = [](std::string bytes, uint64_t at, uint64_t value, int size) {
    bytes.replace(at, size, littleEndian(value, size));
    return bytes;
  };
  std::string one = zip({{"x.npy", x}});
  uint64_t central = offsetOf(one, "PK\x01\x02");
  uint64_t end = offsetOf(one, "PK\x05\x06");
  damaged(patch(one, central + 42, 0x7fffffff, 4), central,
          "member 'x.npy' starts past the central directory");
  damaged(patch(patch(one, central + 20, 5000, 4), central + 24, 5000, 4), 55,
          "the data of member 'x.npy' runs into the central directory");
  damaged(patch(patch(one, end + 8, 2, 2), end + 10, 2, 2), end,
          "no central directory entry where one should be");
  damaged(patch(one, central + 28, 300, 2), central,
          "an entry runs past the central directory");

  std::string two = zip({{"x.npy", x}, {"y.npy", x}});
  end = offsetOf(two, "PK\x05\x06");
  damaged(patch(patch(two, end + 8, 1, 2), end + 10, 1, 2),
          offsetOf(two, "PK\x01\x02", 1),
          "the central directory holds more than its entries");

  std::string big = zip({{"x.npy", x}}, /*zip64Directory=*/true);
  uint64_t record = offsetOf(big, "PK\x06\x06");
  uint64_t locator = offsetOf(big, "PK\x06\x07");
  central = offsetOf(big, "PK\x01\x02");
  damaged(patch(big, locator + 8, 1ull << 40, 8), locator,
          "the ZIP64 locator points outside the file");
  damaged(patch(big, record, 0, 4), record,
          "no ZIP64 end record where the locator points");
  uint64_t extra = central + 46 + 5;
  damaged(patch(big, extra + 2, 100, 2), central,
          "an extra field of member 'x.npy' runs past its entry");
  damaged(patch(big, extra + 2, 8, 2), central,
          "the ZIP64 field of member 'x.npy' is too short");
}

TEST_F(TensorsTest, ByteSourcesReadInBoundsOnly) {
  ByteSource memory = ByteSource::ofMemory({1, 2, 3, 4});
  uint8_t out[4] = {};
  std::string reason;
  EXPECT_EQ(memory.size(), 4u);
  ASSERT_TRUE(memory.read(1, 3, out, reason)) << reason;
  EXPECT_EQ(out[2], 4);
  EXPECT_FALSE(memory.read(2, 3, out, reason));
  EXPECT_EQ(reason, "the data ends at byte 4");

  ByteSource file;
  EXPECT_FALSE(ByteSource::openFile(pathOf("absent"), file, reason));
  EXPECT_EQ(reason, "cannot open it (No such file or directory)");
  EXPECT_FALSE(ByteSource::openFile(dir.string(), file, reason));
  EXPECT_EQ(reason, "it is not a regular file");
  ASSERT_TRUE(ByteSource::openFile(write("f", "abcdef"), file, reason));
  ASSERT_TRUE(file.read(4, 2, out, reason)) << reason;
  EXPECT_EQ(out[1], 'f');
  EXPECT_FALSE(file.read(4, 3, out, reason));
  EXPECT_EQ(reason, "the file ends at byte 6, shorter than when it was opened");
}

TEST_F(TensorsTest, DeflatedMemberErrors) {
  std::string x = npy("<f4", {64}, std::string(256, '\1'));
  std::vector<Field> xs = {f32("x", {64})};
  auto fails = [&](const Member &member) {
    write("bad.npz", zip({member}));
    return openError("bad.npz", xs);
  };
  std::string where = pathOf("bad.npz") + ": member 'x.npy', byte ";
  std::string deflated = deflateRaw(x);

  Member damaged{"x.npy", x, true};
  damaged.stored = "\xff\xff\xff\xff" + deflated;
  std::string error = fails(damaged);
  EXPECT_CONTAINS(error, where, "the deflated data is damaged (zlib: ",
                  "numpy.savez_compressed");

  Member truncated{"x.npy", x, true};
  truncated.stored = deflated.substr(0, deflated.size() / 2);
  error = fails(truncated);
  EXPECT_CONTAINS(error, where, "the deflated data ends early, after ",
                  "the file is truncated");

  Member longer{"x.npy", x, true};
  longer.uncompressed = x.size() - 1;
  error = fails(longer);
  EXPECT_CONTAINS(error, where, "the member inflates to more than ",
                  "bytes, but the zip directory gives it");

  Member shorter{"x.npy", x, true};
  shorter.uncompressed = x.size() + 1;
  error = fails(shorter);
  EXPECT_CONTAINS(error, "the member inflates to " + std::to_string(x.size()) +
                             " bytes, but the zip directory gives it " +
                             std::to_string(x.size() + 1));

  Member crc{"x.npy", x, true};
  crc.crc = 1234;
  error = fails(crc);
  EXPECT_CONTAINS(error, where, "CRC-32 does not match");

  Member bomb{"x.npy", x, true};
  bomb.uncompressed = uint64_t(1) << 40;
  write("bad.npz", zip({bomb}, /*zip64Directory=*/true));
  error = openError("bad.npz", xs);
  EXPECT_CONTAINS(error, "the zip archive is damaged (member 'x.npy' claims "
                         "1099511627776 bytes inflated from ");

  // Errors in the inflated .npy count bytes within the member.
  Member big{"x.npy", npy(">f4", {64}, std::string(256, '\1')), true};
  error = fails(big);
  EXPECT_EQ(error.rfind(where + "0 of the inflated member: the array is "
                                "big-endian",
                        0),
            0u)
      << error;
}

/// A deflated member that does not fit in memory fails with a message, not
/// an exception; the address space is limited in a child process.
TEST_F(TensorsTest, OutOfMemoryWhileInflating) {
  Member huge{"x.npy", ""};
  huge.method = 8;
  huge.stored = std::string(1 << 20, '\0');
  huge.uncompressed = uint64_t(1) << 30;
  write("huge.npz", zip({huge}));
  SourceRequest big = request("huge.npz", "", {f32("x", {})});
  auto child = [&] {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlim_t budget = pages * ::sysconf(_SC_PAGESIZE) + (256 << 20);
    struct rlimit limit = {budget, budget};
    ::setrlimit(RLIMIT_AS, &limit);
    OpenedSource result;
    std::string message;
    bool ok = openTensors(big, result, message);
    std::fprintf(stderr, "%s\n", message.c_str());
    std::_Exit(ok ? 1 : 0);
  };
  EXPECT_EXIT(
      child(), ::testing::ExitedWithCode(0),
      "huge.npz: out of memory while opening the arrays; a deflated .npz "
      "member \\(numpy.savez_compressed\\) is inflated into memory whole");
}

//===----------------------------------------------------------------------===//
// .npy headers
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, NpyVersionsAndSpacing) {
  std::string data = bytesOf<float>({1, 2});
  write("v/a.npy", npy("<f4", {2}, data, 2));
  write("v/b.npy", npy("<f4", {2}, data, 3));
  // The spacing and quotes of hand-written or older headers, and Python 2's
  // long sizes.
  write(
      "v/c.npy",
      npyHeader("{ \"shape\" :(2L,) ,'fortran_order':False,\t'descr':'<f4'}") +
          data);
  write("v/d.npy", npyHeader("{'descr': '<f4', 'fortran_order': True, "
                             "'shape': (2,)}") +
                       data);
  ASSERT_TRUE(
      open("v", "", {f32("a", {}), f32("b", {}), f32("c", {}), f32("d", {})}))
      << error;
  for (size_t f = 0; f < 4; ++f)
    EXPECT_EQ(readField<float>(*opened.train, 1, f), std::vector<float>{2})
        << f;
}

TEST_F(TensorsTest, UnsupportedArrays) {
  auto fails = [&](const std::string &contents) {
    fs::remove_all(dir / "d");
    write("d/x.npy", contents);
    return openError("d", {f32("x", {2})});
  };
  std::string where = pathOf("d/x.npy") + ": byte 0: ";
  std::string data(16, '\0');
  EXPECT_EQ(fails(npy(">f4", {2, 2}, data)),
            where + "the array is big-endian ('>f4'); save it little-endian, "
                    "e.g. with x.astype('<f4')");
  EXPECT_EQ(fails(npyHeader(dictOf("<f4", {2, 2}, true)) + data),
            where + "the array is in Fortran order; save it with "
                    "np.save(path, np.ascontiguousarray(x)) so that its rows "
                    "are contiguous");
  EXPECT_CONTAINS(fails(npy("|O", {2, 2}, data)), where,
                  "the array holds Python objects ('|O'), which .npy stores "
                  "as a pickle");
  EXPECT_EQ(fails(npyHeader("{'descr': [('a', '<f4'), ('b', '<i4')], "
                            "'fortran_order': False, 'shape': (2,), }") +
                  data),
            where + "the array has a structured dtype (a list of named "
                    "fields); save each field as an array of its own");
  EXPECT_CONTAINS(fails(npy("<c8", {2, 1}, data)), where,
                  "the dtype '<c8' is not one Kiln reads (bool, u8, ",
                  "x.astype(np.float32)");
  EXPECT_CONTAINS(fails(npy("|f4", {2, 2}, data)), "the dtype '|f4' is not");
  EXPECT_CONTAINS(fails(npy("<U2", {2, 2}, data)), "the dtype '<U2' is not");
}

TEST_F(TensorsTest, MalformedNpyHeaders) {
  auto fails = [&](const std::string &dict) {
    fs::remove_all(dir / "d");
    write("d/x.npy", npyHeader(dict) + std::string(8, '\0'));
    return openError("d", {f32("x", {2})});
  };
  auto expectAt = [&](const std::string &dict, size_t at,
                      const std::string &what) {
    EXPECT_EQ(fails(dict),
              pathOf("d/x.npy") + ": byte " + std::to_string(10 + at) +
                  ": the .npy header is not the dict that numpy writes (" +
                  what + "); save the array again with numpy.save")
        << dict;
  };
  expectAt("['descr']", 0, "expected '{'");
  expectAt("{descr: 1}", 1, "expected a quoted key");
  expectAt("{'descr' '<f4'}", 9, "expected ':'");
  expectAt("{'descr': '<f4' 'shape': (2,)}", 16, "expected ',' or '}'");
  expectAt("{'descr': '<f4', 'order': 1}", 17,
           "the key 'order' is not one numpy writes");
  expectAt("{'descr': '<f4', 'descr': '<f4'}", 17,
           "the key 'descr' appears twice");
  expectAt("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 17,
           "expected ',' or '}'");
  expectAt("{'descr': '<f4\\'', 'fortran_order': False, 'shape': (2,)}", 10,
           "a string without its closing quote");
  expectAt("{'fortran_order': false}", 18, "expected True or False");
  expectAt("{'shape': 2}", 10, "expected '('");
  expectAt("{'shape': (-2,)}", 11, "expected a size");
  expectAt("{'shape': (2 3)}", 13, "expected ',' or ')'");
  expectAt("{'shape': (99999999999999999999,)}", 11,
           "a size larger than 2^63 - 1");
  expectAt("{'descr': '<f4', 'fortran_order': False} x", 41,
           "text follows the closing '}'");
  // The position of "missing" is the end of the dict.
  expectAt("{'descr': '<f4', 'fortran_order': False}", 54,
           "the key 'shape' is missing");
}

TEST_F(TensorsTest, DamagedNpyFiles) {
  auto fails = [&](const std::string &contents) {
    fs::remove_all(dir / "d");
    write("d/x.npy", contents);
    return openError("d", {f32("x", {2})});
  };
  std::string path = pathOf("d/x.npy");
  std::string good = npy("<f4", {3, 2}, bytesOf<float>({1, 2, 3, 4, 5, 6}));

  EXPECT_EQ(fails("PK\x03\x04 not an array"),
            path + ": byte 0: not a .npy array: it does not start with "
                   "\"\\x93NUMPY\"; save the array again with numpy.save");
  EXPECT_EQ(fails(""), path + ": byte 0: not a .npy array: it does not start "
                              "with \"\\x93NUMPY\"; save the array again "
                              "with numpy.save");
  EXPECT_EQ(fails(good.substr(0, 7)),
            path + ": byte 7: the data ends inside the .npy header's first "
                   "10 bytes; the file is truncated");
  std::string v2 = npy("<f4", {2}, "", 2);
  EXPECT_CONTAINS(fails(v2.substr(0, 10)),
                  ": byte 10: the data ends inside the .npy header's first "
                  "12 bytes");
  std::string v4 = good;
  v4[6] = 4;
  EXPECT_EQ(fails(v4), path + ": byte 6: the .npy format version is 4.0, not "
                              "1.0, 2.0 or 3.0 (what numpy writes); save the "
                              "array again with numpy.save");
  EXPECT_EQ(fails(good.substr(0, 40)),
            path + ": byte 40: the data ends inside the .npy header, which "
                   "needs 118 bytes from byte 10; the file is truncated");
  std::string huge =
      std::string("\x93NUMPY\x02") + '\0' + littleEndian(1 << 21, 4) + "{}";
  EXPECT_CONTAINS(fails(huge),
                  ": byte 8: the .npy header is 2097152 bytes long, more "
                  "than the 1048576 Kiln reads");
  EXPECT_EQ(fails(good.substr(0, good.size() - 5)),
            path + ": byte 147: the data ends here, after 19 of the 24 bytes "
                   "that shape [3, 2] of f32 needs (from byte 128); the file "
                   "is truncated");
  EXPECT_EQ(fails(good + "xyz"),
            path + ": byte 152: 3 bytes follow the 24 bytes that shape [3, 2] "
                   "of f32 needs; the header does not describe the data: "
                   "save the array again with numpy.save");
  EXPECT_CONTAINS(fails(npy("<f4", {1LL << 62, 1LL << 62}, "")),
                  ": byte 128: the data ends here, after 0 of the more than "
                  "2^64 bytes");
}

} // namespace
