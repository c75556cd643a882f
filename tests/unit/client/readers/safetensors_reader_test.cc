#include <string>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

std::string TwoTensorFile() {
  const std::string header = R"({"b.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("a.weight":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},)"
                             R"("__metadata__":{"format":"pt"}})";
  std::string data =
      FloatBytes({1, 2, 3, 4}) + LE<uint16_t>(0x3c00) + LE<uint16_t>(0x4000) + LE<uint16_t>(0xc000);
  return Safetensors(header, data);
}

TEST(SafetensorsReaderTest, ReadsTensorsSortedByName) {
  auto r = OpenCheckpointFromBuffer("mem.safetensors", TwoTensorFile());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Format(), "safetensors");
  ASSERT_EQ((*r)->Tensors().size(), 2u);
  EXPECT_EQ((*r)->Tensors()[0].name, "a.weight");
  EXPECT_EQ((*r)->Tensors()[0].dtype, DType::kF16);
  EXPECT_EQ((*r)->Tensors()[0].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ((*r)->Tensors()[1].name, "b.weight");
  EXPECT_EQ((*r)->TotalBytes(), 22u);
  EXPECT_EQ(TensorBytes(**r, 1), FloatBytes({1, 2, 3, 4}));
  EXPECT_EQ(TensorBytes(**r, 0).size(), 6u);
  EXPECT_FALSE((*r)->Load(2).ok());
}

TEST(SafetensorsReaderTest, ViewOutlivesReader) {
  auto r = OpenCheckpointFromBuffer("mem.safetensors", TwoTensorFile());
  ASSERT_TRUE(r.ok());
  auto v = (*r)->Load(1);
  ASSERT_TRUE(v.ok());
  r->reset();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->bytes.data()), v->bytes.size()),
            FloatBytes({1, 2, 3, 4}));
}

TEST(SafetensorsReaderTest, EveryTruncationIsAnError) {
  const std::string full = TwoTensorFile();
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = OpenCheckpointFromBuffer("cut.safetensors", full.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
  }
}

absl::Status OpenHeader(const std::string& header, size_t data_bytes) {
  return OpenCheckpointFromBuffer("bad.safetensors",
                                  Safetensors(header, std::string(data_bytes, '\0')))
      .status();
}

TEST(SafetensorsReaderTest, HostileHeaders) {
  // Header length that overflows / exceeds the file.
  auto s = OpenCheckpointFromBuffer("h.safetensors", LE<uint64_t>(~uint64_t{0}) + "{}");
  EXPECT_FALSE(s.ok());
  s = OpenCheckpointFromBuffer("h.safetensors", LE<uint64_t>(1000) + "{}" + std::string(10, ' '));
  EXPECT_HAS(s.status().message(), "past the end");
  // Data offsets past EOF.
  auto st = OpenHeader(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  EXPECT_HAS(st.message(), "tensor 'w'");
  EXPECT_HAS(st.message(), "past the end");
  // shape * dtype size disagrees with the offsets.
  st = OpenHeader(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16);
  EXPECT_HAS(st.message(), "needs 12");
  // Shape product overflows.
  st = OpenHeader(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",
                  16);
  EXPECT_HAS(st.message(), "overflows");
  // Offsets that overflow uint64 or are reversed or negative.
  st =
      OpenHeader(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}})", 4);
  EXPECT_FALSE(st.ok());
  st = OpenHeader(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 4);
  EXPECT_HAS(st.message(), "reversed");
  st = OpenHeader(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
  EXPECT_FALSE(st.ok());
  // A dtype nobody defined: a corrupt header, not a tensor to skip.
  st = OpenHeader(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", 1);
  EXPECT_HAS(st.message(), "unknown dtype 'Q7'");
  // A dtype htsr leaves out is still checked: offsets against shape, packed sub-byte sizes.
  st = OpenHeader(R"({"w":{"dtype":"U32","shape":[3],"data_offsets":[0,16]}})", 16);
  EXPECT_HAS(st.message(), "needs 12");
  st = OpenHeader(R"({"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", 2);
  EXPECT_HAS(st.message(), "not a whole number of bytes");
  st = OpenHeader(R"({"w":{"dtype":"U64","shape":[2],"data_offsets":[0,16]}})", 8);
  EXPECT_HAS(st.message(), "past the end");
  // Deep nesting, non-object header, missing fields, duplicate keys.
  st = OpenHeader("{\"__metadata__\":" + std::string(5000, '[') + std::string(5000, ']') + "}", 0);
  EXPECT_HAS(st.message(), "nesting");
  EXPECT_FALSE(OpenHeader("[1]", 0).ok());
  EXPECT_FALSE(OpenHeader(R"({"w":{"dtype":"F32","shape":[1]}})", 4).ok());
  st = OpenHeader(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  4);
  EXPECT_HAS(st.message(), "duplicate");
}

TEST(SafetensorsReaderTest, TensorsOfUnreadDTypesAreLeftOutWithANote) {
  // A quantised checkpoint: packed codes (U32), block scales (F8_E8M0), 4-bit floats beside
  // an ordinary bf16 matrix. The matrix is read; the rest is named in one note.
  const std::string header = R"({"m.qweight":{"dtype":"U32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("m.scales":{"dtype":"F8_E8M0","shape":[4],"data_offsets":[16,20]},)"
                             R"("m.fp4":{"dtype":"F4","shape":[2,4],"data_offsets":[20,24]},)"
                             R"("m.cplx":{"dtype":"C64","shape":[1],"data_offsets":[24,32]},)"
                             R"("w.weight":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]}})";
  const std::string data =
      std::string(32, '\x01') + LE<uint16_t>(0x3f80) + LE<uint16_t>(0xbf80);  // 1.0, -1.0
  auto r = OpenCheckpointFromBuffer("q.safetensors", Safetensors(header, data));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->Tensors().size(), 1u);
  EXPECT_EQ((*r)->Tensors()[0].name, "w.weight");
  EXPECT_EQ(TensorBytes(**r, 0), LE<uint16_t>(0x3f80) + LE<uint16_t>(0xbf80));
  EXPECT_EQ((*r)->TotalBytes(), 4u);
  ASSERT_EQ((*r)->Notes().size(), 1u);
  const std::string& note = (*r)->Notes()[0];
  EXPECT_HAS(note, "q.safetensors: left out 4 tensors of dtypes htsr does not analyse");
  EXPECT_HAS(note, "'m.cplx' (C64), 'm.fp4' (F4), 'm.qweight' (U32), ...");

  // An ordinary file has no notes.
  auto plain = OpenCheckpointFromBuffer("mem.safetensors", TwoTensorFile());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->Notes().empty());
}

// The safetensors library's layout rules (Metadata::validate, read_metadata): tensors sorted
// by data_offsets tile the data section exactly, and the header is UTF-8. Each file below
// loads in the library as an error; htsr refused none of them before.
TEST(SafetensorsReaderTest, OverlappingOffsetsAreRefused) {
  auto st =
      OpenCheckpointFromBuffer(
          "o.safetensors", Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                       FloatBytes({1, 2, 3})))
          .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_HAS(st.message(), "o.safetensors: tensor 'b': data_offsets [4, 12] overlap tensor 'a'");
}

TEST(SafetensorsReaderTest, IdenticalOffsetsAreRefused) {
  // Two names for the same bytes (the library's save_file refuses shared tensors too).
  auto st = OpenHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                       8);
  EXPECT_HAS(st.message(), "bad.safetensors: tensor 'b': data_offsets [0, 8] overlap tensor 'a'");
  // Empty tensors hold no bytes: several may sit at one offset, as the library allows.
  EXPECT_TRUE(OpenHeader(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                         R"("b":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},)"
                         R"("c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                         4)
                  .ok());
}

TEST(SafetensorsReaderTest, GapsAndTrailingBytesAreRefused) {
  auto st = OpenHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                       12);
  EXPECT_HAS(st.message(),
             "tensor 'b': data_offsets [8, 12] leave a gap of 4 bytes at data offset 4");
  // Bytes before the first tensor are a gap too.
  st = OpenHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  EXPECT_HAS(st.message(),
             "tensor 'a': data_offsets [4, 8] leave a gap of 4 bytes at data offset 0");
  // Bytes after the last tensor that no tensor covers (a hidden payload).
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  st = OpenHeader(header, 9);
  EXPECT_HAS(st.message(),
             absl::StrCat("bad.safetensors: 5 trailing bytes from data offset 4 (byte ",
                          8 + header.size() + 4, " of the file) belong to no tensor"));
  // Tensors of a dtype htsr leaves out still take their place in the layout.
  EXPECT_TRUE(OpenHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("q":{"dtype":"U32","shape":[1],"data_offsets":[4,8]}})",
                         8)
                  .ok());
  st = OpenHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("q":{"dtype":"U32","shape":[1],"data_offsets":[0,4]}})",
                  4);
  EXPECT_HAS(st.message(), "overlap");
}

TEST(SafetensorsReaderTest, InvalidUtf8HeaderIsRefused) {
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  for (const std::string& bad : {std::string("\xff"), std::string("\xc0\xaf"),  // overlong '/'
                                 std::string("\xed\xa0\x80"),                   // surrogate
                                 std::string("\xf4\x90\x80\x80"),               // > U+10FFFF
                                 std::string("\xe2\x82")}) {                    // cut short
    const std::string header = "{\"__metadata__\":{\"k\":\"" + bad + "\"}," + ok_entry + "}";
    auto st = OpenHeader(header, 4);
    EXPECT_HAS(st.message(), "bad.safetensors: header is not valid UTF-8");
    EXPECT_HAS(st.message(), "at byte 30 of the file");
  }
  // Well-formed multi-byte names are fine.
  EXPECT_TRUE(OpenHeader("{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\":"
                         "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                         4)
                  .ok());
}

TEST(SafetensorsReaderTest, MixedFixtureUsesPlainStringOrder) {
  auto r = OpenCheckpoint(DataPath("synthetic/fixtures/mixed.safetensors"));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& t = (*r)->Tensors();
  for (size_t i = 1; i < t.size(); ++i) EXPECT_LT(t[i - 1].name, t[i].name);
  const size_t l10 = IndexOf(**r, "layers.10.weight");
  const size_t l2 = IndexOf(**r, "layers.2.weight");
  ASSERT_NE(l10, SIZE_MAX);
  ASSERT_NE(l2, SIZE_MAX);
  EXPECT_LT(l10, l2);
  const size_t bf = IndexOf(**r, "dtype.bf16.weight");
  ASSERT_NE(bf, SIZE_MAX);
  EXPECT_EQ(t[bf].dtype, DType::kBF16);
  EXPECT_EQ(t[bf].shape, (std::vector<int64_t>{96, 160}));
  EXPECT_EQ(t[IndexOf(**r, "buffers.position_ids")].dtype, DType::kI64);
  for (size_t i = 0; i < t.size(); ++i) ASSERT_TRUE((*r)->Load(i).ok()) << t[i].name;
}

TEST(SafetensorsReaderTest, OrderMatchesSafeOpenKeys) {
  auto r = OpenCheckpoint(DataPath("readers/views.safetensors"));
  ASSERT_TRUE(r.ok()) << r.status();
  std::istringstream order(ReadFileOrDie(DataPath("readers/views.safetensors.order.txt")));
  std::string name;
  size_t i = 0;
  while (std::getline(order, name)) {
    ASSERT_LT(i, (*r)->Tensors().size());
    EXPECT_EQ((*r)->Tensors()[i++].name, name);
  }
  EXPECT_EQ(i, (*r)->Tensors().size());
}

}  // namespace
}  // namespace htsr::readers::testing
