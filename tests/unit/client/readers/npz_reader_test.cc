#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

std::string Member(const std::vector<float>& v, const std::string& shape) {
  return Npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", FloatBytes(v));
}

TEST(NpzReaderTest, ZipOrderAndNamesWithoutSuffix) {
  for (bool deflate : {false, true}) {
    ZipWriter z;
    z.Add("zeta.npy", Member({1, 2}, "(2,)"), deflate);
    z.Add("alpha.npy", Member({3, 4, 5, 6}, "(2, 2)"), deflate);
    auto r = OpenCheckpointFromBuffer("m.npz", z.Finish());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->Format(), "npz");
    ASSERT_EQ((*r)->Tensors().size(), 2u);
    EXPECT_EQ((*r)->Tensors()[0].name, "zeta");
    EXPECT_EQ((*r)->Tensors()[1].name, "alpha");
    EXPECT_EQ(TensorBytes(**r, 1), FloatBytes({3, 4, 5, 6}));
  }
}

TEST(NpzReaderTest, StoredMembersAreServedFromTheMapping) {
  ZipWriter z;
  z.Add("a.npy", Member({1, 2}, "(2,)"));
  const std::string file = z.Finish();
  auto r = OpenCheckpointFromBuffer("m.npz", file);
  ASSERT_TRUE(r.ok());
  auto v1 = (*r)->Load(0);
  auto v2 = (*r)->Load(0);
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_EQ(v1->bytes.data(), v2->bytes.data());  // no copy: the same mapped bytes
}

TEST(NpzReaderTest, FixturesAgreeAcrossCompression) {
  auto stored = OpenCheckpoint(DataPath("readers/views.npz"));
  auto deflated = OpenCheckpoint(DataPath("readers/views_compressed.npz"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(deflated.ok()) << deflated.status();
  ASSERT_EQ((*stored)->Tensors().size(), (*deflated)->Tensors().size());
  for (size_t i = 0; i < (*stored)->Tensors().size(); ++i) {
    EXPECT_EQ((*stored)->Tensors()[i].name, (*deflated)->Tensors()[i].name);
    EXPECT_EQ(TensorBytes(**stored, i), TensorBytes(**deflated, i));
  }
  auto named = OpenCheckpoint(DataPath("synthetic/fixtures/named_arrays.npz"));
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_NE(IndexOf(**named, "fc1.bias"), SIZE_MAX);
  const size_t f64 = IndexOf(**named, "f64");
  ASSERT_NE(f64, SIZE_MAX);
  EXPECT_EQ((*named)->Tensors()[f64].dtype, DType::kF64);
  EXPECT_EQ((*named)->Tensors()[f64].shape, (std::vector<int64_t>{120, 70}));
}

TEST(NpzReaderTest, EveryTruncationIsAnError) {
  for (bool deflate : {false, true}) {
    ZipWriter z;
    z.Add("a.npy", Member({1, 2, 3}, "(3,)"), deflate);
    z.Add("b.npy", Member({4}, "(1,)"), deflate);
    const std::string full = z.Finish();
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = OpenCheckpointFromBuffer("cut.npz", full.substr(0, n));
      if (r.ok()) {  // only a lost comment could be harmless; our writer has none
        ADD_FAILURE() << "prefix " << n << " accepted";
      }
    }
  }
}

TEST(NpzReaderTest, LyingSizesAreRefused) {
  // A deflated member declaring a larger uncompressed size than it inflates to.
  const std::string npy = Member({1, 2, 3, 4}, "(4,)");
  ZipWriter z;
  z.Add("a.npy", npy, true);
  std::string file = z.Finish();
  // Patch the central directory's uncompressed size (offset 24 in the entry).
  const size_t cd = file.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(cd, std::string::npos);
  const std::string bigger = LE<uint32_t>(npy.size() + 4);
  file.replace(cd + 24, 4, bigger);
  auto r = OpenCheckpointFromBuffer("lie.npz", file);
  if (r.ok()) {
    auto v = (*r)->Load(0);
    EXPECT_FALSE(v.ok());
  } else {
    EXPECT_HAS(r.status().message(), "a.npy");
  }
  // A stored member whose size runs past the end of the file.
  ZipWriter s;
  s.Add("a.npy", npy);
  std::string stored = s.Finish();
  const size_t scd = stored.find(std::string("PK\x01\x02", 4));
  stored.replace(scd + 20, 8, LE<uint32_t>(1u << 30) + LE<uint32_t>(1u << 30));
  auto rs = OpenCheckpointFromBuffer("lie.npz", stored);
  ASSERT_FALSE(rs.ok());
  EXPECT_HAS(rs.status().message(), "past the end");
  // An object array member.
  ZipWriter o;
  o.Add("obj.npy", Npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "\x80\x02N."));
  auto ro = OpenCheckpointFromBuffer("obj.npz", o.Finish());
  ASSERT_FALSE(ro.ok());
  EXPECT_HAS(ro.status().message(), "object arrays are refused");
}

// Two members of one name: np.load returns the last, unzip extracts the first. Refused.
TEST(NpzReaderTest, DuplicateMemberNamesAreRefused) {
  ZipWriter z;
  z.Add("w.npy", Member({1, 2}, "(2,)"));
  z.Add("w.npy", Member({3, 4}, "(2,)"));
  auto r = OpenCheckpointFromBuffer("dup.npz", z.Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "dup.npz: zip: two entries are named 'w.npy'");
  // "w" and "w.npy" are both tensor "w".
  ZipWriter y;
  y.Add("w.npy", Member({1, 2}, "(2,)"));
  y.Add("w", Member({3, 4}, "(2,)"));
  r = OpenCheckpointFromBuffer("dup2.npz", y.Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "dup2.npz: members 'w.npy' and 'w' both hold tensor 'w'");
}

// The overlap bomb in small: 1,001 members that are one deflated array. Before, it
// was 1,001 layers (6.4 GB inflated from a 67 KB file at full size).
TEST(NpzReaderTest, OverlapBombIsRefused) {
  const std::string member = Member(std::vector<float>(64 * 64, 0.0f), "(64, 64)");
  ZipWriter z;
  z.Add("layer0.npy", member, /*deflate=*/true);
  for (int i = 1; i <= 1000; ++i) z.AddEntryAt(absl::StrCat("layer", i, ".npy"), member, true, 0);
  auto r = OpenCheckpointFromBuffer("bomb.npz", z.Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "bomb.npz: zip: entry 'layer");
  EXPECT_HAS(r.status().message(), "overlapping entries");
}

}  // namespace
}  // namespace htsr::readers::testing
