#include <string>

#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

TEST(NpyReaderTest, ReadsV1AndV2AndNamesAfterStem) {
  for (int major : {1, 2, 3}) {
    const std::string file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                 FloatBytes({1, 2, 3, 4, 5, 6}), major);
    auto r = OpenCheckpointFromBuffer("dir/w1.npy", file);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->Format(), "npy");
    ASSERT_EQ((*r)->Tensors().size(), 1u);
    EXPECT_EQ((*r)->Tensors()[0].name, "w1");
    EXPECT_EQ((*r)->Tensors()[0].shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2, 3, 4, 5, 6}));
  }
}

TEST(NpyReaderTest, FortranOrderIsTransposedToRowMajor) {
  // Column-major storage of [[1, 2, 3], [4, 5, 6]].
  const std::string file = Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                               FloatBytes({1, 4, 2, 5, 3, 6}));
  auto r = OpenCheckpointFromBuffer("f.npy", file);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2, 3, 4, 5, 6}));
}

TEST(NpyReaderTest, BigEndianIsSwapped) {
  std::string be;
  for (float f : {1.5f, -2.0f}) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 3; i >= 0; --i) be.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
  auto r = OpenCheckpointFromBuffer(
      "b.npy", Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1.5f, -2.0f}));
}

TEST(NpyReaderTest, FixturesMatchTheirCOrderTwins) {
  auto fortran = OpenCheckpoint(DataPath("readers/fortran.npy"));
  auto c = OpenCheckpoint(DataPath("readers/reference_conv.npy"));
  ASSERT_TRUE(fortran.ok()) << fortran.status();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*fortran)->Tensors()[0].shape, (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(TensorBytes(**fortran, 0), TensorBytes(**c, 0));
  auto big = OpenCheckpoint(DataPath("readers/bigendian.npy"));
  auto little = OpenCheckpoint(DataPath("readers/reference_f64.npy"));
  ASSERT_TRUE(big.ok()) << big.status();
  ASSERT_TRUE(little.ok()) << little.status();
  EXPECT_EQ((*big)->Tensors()[0].dtype, DType::kF64);
  EXPECT_EQ(TensorBytes(**big, 0), TensorBytes(**little, 0));
}

TEST(NpyReaderTest, SingleFixtureMatchesItsNpzTwin) {
  auto npy = OpenCheckpoint(DataPath("synthetic/fixtures/single.npy"));
  auto npz = OpenCheckpoint(DataPath("synthetic/fixtures/single_npy_as.npz"));
  ASSERT_TRUE(npy.ok()) << npy.status();
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_EQ((*npy)->Tensors()[0].name, "single");
  EXPECT_EQ((*npz)->Tensors()[0].name, "single");
  EXPECT_EQ((*npy)->Tensors()[0].shape, (std::vector<int64_t>{200, 120}));
  EXPECT_EQ(TensorBytes(**npy, 0), TensorBytes(**npz, 0));
}

TEST(NpyReaderTest, EveryTruncationIsAnError) {
  const std::string full = ReadFileOrDie(DataPath("readers/fortran.npy"));
  ASSERT_GT(full.size(), 100u);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(OpenCheckpointFromBuffer("cut.npy", full.substr(0, n)).ok()) << n;
  }
}

TEST(NpyReaderTest, HostileHeaders) {
  auto open = [](const std::string& dict, size_t data) {
    return OpenCheckpointFromBuffer("h.npy", Npy(dict, std::string(data, '\0'))).status();
  };
  EXPECT_HAS(open("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16).message(),
             "object arrays are refused");
  EXPECT_HAS(open("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16).message(),
             "unsupported dtype");
  EXPECT_FALSE(open("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8).ok());
  EXPECT_HAS(open("{'descr': '<f4', 'fortran_order': False, "
                  "'shape': (4294967296, 4294967296), }",
                  8)
                 .message(),
             "overflows");
  EXPECT_FALSE(open("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 8).ok());
  EXPECT_FALSE(open("{'descr': '<f4', 'shape': (2,), }", 8).ok());
  EXPECT_FALSE(open("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8).ok());
  // A v2 header length far beyond the file.
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8) + LE<uint32_t>(0xfffffff0u);
  EXPECT_FALSE(OpenCheckpointFromBuffer("h.npy", v2).ok());
}

}  // namespace
}  // namespace htsr::readers::testing
