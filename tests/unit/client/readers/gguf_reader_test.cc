// The GGUF reader: real all-MiniLM-L6-v2 weights written by gguf-py at 13 ggml types
// (tests/data/readers/gguf, from tests/tools/make_gguf_fixtures.py) must dequantise to what
// gguf.quants.dequantize gives, bit for bit; F32/F16 files must analyse exactly as the same
// weights in safetensors; hostile files must be refused with the file, tensor and byte named.
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "htsr/engine.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"
#include "readers/gguf_dequant.h"

namespace htsr::readers::testing {
namespace {

constexpr uint32_t kTypeF32 = 0, kTypeF16 = 1, kTypeQ4_0 = 2, kTypeQ4_K = 12, kTypeQ8_K = 15,
                   kTypeIQ2_XXS = 16, kTypeI32 = 26;
constexpr uint32_t kValU8 = 0, kValU32 = 4, kValString = 8, kValArray = 9, kValU64 = 10;

std::string GgufStr(const std::string& s) { return LE<uint64_t>(s.size()) + s; }

// Writes GGUF files byte by byte, so that each field can be made to lie.
class GgufBuilder {
 public:
  uint32_t version = 3;
  uint32_t alignment = 32;  // used for padding; write general.alignment yourself to change it

  void Kv(const std::string& key, uint32_t type, const std::string& value) {
    kv_ += GgufStr(key) + LE<uint32_t>(type) + value;
    ++n_kv_;
  }
  void KvString(const std::string& key, const std::string& v) { Kv(key, kValString, GgufStr(v)); }
  // A tensor whose bytes go at the next aligned data offset, unless `offset` is given.
  void Tensor(const std::string& name, const std::vector<int64_t>& ne, uint32_t type,
              const std::string& bytes, std::optional<uint64_t> offset = std::nullopt) {
    while (data_.size() % alignment != 0) data_ += '\0';
    const uint64_t at = offset.value_or(data_.size());
    data_ += bytes;
    info_at_.push_back(24 + kv_.size() + infos_.size());
    infos_ += GgufStr(name) + LE<uint32_t>(ne.size());
    for (int64_t n : ne) infos_ += LE<int64_t>(n);
    infos_ += LE<uint32_t>(type) + LE<uint64_t>(at);
    ++n_tensors_;
  }
  // Byte offset of tensor i's info (infos come after all metadata: add metadata first).
  size_t InfoAt(size_t i) const { return info_at_[i]; }
  size_t DataStart() const {
    const size_t end = 24 + kv_.size() + infos_.size();
    return (end + alignment - 1) / alignment * alignment;
  }
  std::string Build(std::optional<uint64_t> n_tensors = std::nullopt,
                    std::optional<uint64_t> n_kv = std::nullopt) const {
    std::string out = "GGUF" + LE<uint32_t>(version) +
                      LE<uint64_t>(n_tensors.value_or(n_tensors_)) +
                      LE<uint64_t>(n_kv.value_or(n_kv_)) + kv_ + infos_;
    while (out.size() % alignment != 0) out += '\0';
    return out + data_;
  }

 private:
  std::string kv_, infos_, data_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  std::vector<size_t> info_at_;
};

// One Q4_0 block of d = 1: values l - 8 (l < 16), then 7 - (l - 16).
std::string Q4_0Block() {
  std::string b = LE<uint16_t>(0x3c00);
  for (int l = 0; l < 16; ++l) b += static_cast<char>(l | ((15 - l) << 4));
  return b;
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> Open(const std::string& bytes) {
  return OpenCheckpointFromBuffer("mem.gguf", bytes);
}

std::vector<float> LoadFloats(const CheckpointReader& r, size_t i) {
  auto v = r.Load(i);
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok()) return {};
  const size_t n = static_cast<size_t>(*v->info.NumElements());
  std::vector<float> out(n);
  EXPECT_TRUE(ConvertToFloat32(v->info.dtype, v->bytes.data(), n, out.data()));
  EXPECT_EQ(v->bytes.size(), n * DTypeSize(v->info.dtype));
  return out;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// make_gguf_fixtures.py's checksum: sum(bits[i] * (2i + 1)) mod 2^64.
uint64_t Checksum(const std::vector<float>& v) {
  uint64_t sum = 0;
  for (size_t i = 0; i < v.size(); ++i) sum += uint64_t{Bits(v[i])} * (2 * uint64_t{i} + 1);
  return sum;
}

// ---------------------------------------------------------------- real weights, all types

struct Expected {
  std::string file, tensor, type;
  std::vector<int64_t> shape;
  uint64_t checksum;
  uint32_t v0, v1, v2, vlast;
};

std::vector<Expected> ReadExpected() {
  std::vector<Expected> out;
  std::istringstream in(ReadFileOrDie(DataPath("readers/gguf/expected.txt")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    EXPECT_EQ(f.size(), 9u) << line;
    if (f.size() != 9) continue;
    Expected e{f[0], f[1], f[2], {}, std::stoull(f[4]), 0, 0, 0, 0};
    for (absl::string_view d : absl::StrSplit(f[3], ','))
      e.shape.push_back(std::stoll(std::string(d)));
    e.v0 = static_cast<uint32_t>(std::stoul(f[5], nullptr, 16));
    e.v1 = static_cast<uint32_t>(std::stoul(f[6], nullptr, 16));
    e.v2 = static_cast<uint32_t>(std::stoul(f[7], nullptr, 16));
    e.vlast = static_cast<uint32_t>(std::stoul(f[8], nullptr, 16));
    out.push_back(e);
  }
  return out;
}

TEST(GgufReaderTest, DequantisesAsGgufPyBitForBit) {
  const std::vector<Expected> expected = ReadExpected();
  ASSERT_EQ(expected.size(), 13u * 4);  // 13 types x (norm + 3 weights)
  std::map<std::string, int> checked_types;
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.file + " " + e.tensor);
    auto r = OpenCheckpoint(DataPath("readers/gguf/" + e.file));  // memory-mapped
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->Format(), "gguf");
    const size_t i = IndexOf(**r, e.tensor);
    ASSERT_NE(i, SIZE_MAX);
    EXPECT_EQ((*r)->Tensors()[i].shape, e.shape);
    const std::vector<float> v = LoadFloats(**r, i);
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(Checksum(v), e.checksum);
    EXPECT_EQ(Bits(v[0]), e.v0);
    EXPECT_EQ(Bits(v[1]), e.v1);
    EXPECT_EQ(Bits(v[2]), e.v2);
    EXPECT_EQ(Bits(v.back()), e.vlast);
    ++checked_types[e.type];
  }
  for (const char* t : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
                        "Q3_K", "Q4_K", "Q5_K", "Q6_K"}) {
    EXPECT_EQ(checked_types[t], t == std::string("F32") ? 13 + 3 : 3) << t;
  }
}

TEST(GgufReaderTest, FixtureTensorsNotesAndLeftOut) {
  auto r = OpenCheckpoint(DataPath("readers/gguf/minilm_f32.gguf"));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const TensorInfo& t : (*r)->Tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                                             "blk.2.ffn_up.weight", "blk.5.ffn_down.weight"}));
  EXPECT_EQ((*r)->LeftOut(), std::vector<std::string>{"position_ids"});
  ASSERT_EQ((*r)->Notes().size(), 1u);
  EXPECT_HAS((*r)->Notes()[0], "'position_ids' (I32)");
  // (out, in) = (128, 256) was written as ne = [256, 128].
  EXPECT_EQ((*r)->Tensors()[1].shape, (std::vector<int64_t>{128, 256}));
  EXPECT_EQ((*r)->Tensors()[1].dtype, DType::kF32);
  EXPECT_EQ((*r)->TotalBytes(), (384u + 128 * 256 + 64 * 256 + 32 * 1536) * 4);

  auto q = OpenCheckpoint(DataPath("readers/gguf/minilm_q4_k.gguf"));  // general.alignment 64
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)->Tensors()[3].dtype, DType::kF32);
  EXPECT_EQ((*q)->Tensors()[3].shape, (std::vector<int64_t>{32, 1536}));
  ASSERT_EQ((*q)->Notes().size(), 1u);
  EXPECT_HAS((*q)->Notes()[0], "3 quantised tensors dequantised to float32 (Q4_K: 3)");
}

std::vector<LayerResult> Analyze(const CheckpointReader& r) {
  EngineConfig config;
  config.threads = 2;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok());
  TensorSource source;
  source.tensors = r.Tensors();
  source.load = [&r](size_t i) { return r.Load(i); };
  return AnalyzeModel(**engine, source);
}

// The same bytes in a safetensors file, for the same reader-independent analysis.
std::string AsSafetensors(const CheckpointReader& r) {
  std::string header = "{", data;
  for (size_t i = 0; i < r.Tensors().size(); ++i) {
    const TensorInfo& t = r.Tensors()[i];
    const std::string bytes = TensorBytes(r, i);
    header +=
        absl::StrCat(i ? "," : "", "\"", t.name, "\":{\"dtype\":\"",
                     std::string(DTypeName(t.dtype)), "\",\"shape\":[", absl::StrJoin(t.shape, ","),
                     "],\"data_offsets\":[", data.size(), ",", data.size() + bytes.size(), "]}");
    data += bytes;
  }
  return Safetensors(header + "}", data);
}

TEST(GgufReaderTest, MetricsEqualSafetensorsOfTheSameWeights) {
  for (const char* file : {"minilm_f32.gguf", "minilm_f16.gguf", "minilm_bf16.gguf"}) {
    SCOPED_TRACE(file);
    auto g = OpenCheckpoint(DataPath(std::string("readers/gguf/") + file));
    ASSERT_TRUE(g.ok()) << g.status();
    auto s = OpenCheckpointFromBuffer("same.safetensors", AsSafetensors(**g));
    ASSERT_TRUE(s.ok()) << s.status();
    const std::vector<LayerResult> a = Analyze(**g), b = Analyze(**s);
    ASSERT_EQ(a.size(), b.size());
    int analysed = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      SCOPED_TRACE(a[i].plan.name);
      EXPECT_EQ(a[i].plan.name, b[i].plan.name);
      EXPECT_EQ(a[i].plan.N, b[i].plan.N);
      EXPECT_EQ(a[i].plan.M, b[i].plan.M);
      EXPECT_EQ(a[i].status, b[i].status);
      EXPECT_EQ(a[i].alpha, b[i].alpha);
      EXPECT_EQ(a[i].D, b[i].D);
      EXPECT_EQ(a[i].xmin, b[i].xmin);
      EXPECT_EQ(a[i].log_norm, b[i].log_norm);
      EXPECT_EQ(a[i].log_spectral_norm, b[i].log_spectral_norm);
      EXPECT_EQ(a[i].stable_rank, b[i].stable_rank);
      analysed += a[i].status == LayerStatus::kSuccess;
    }
    EXPECT_EQ(analysed, 3);
  }
}

// ---------------------------------------------------------------- layout and types

TEST(GgufReaderTest, ReversesNeIntoRowMajorShape) {
  GgufBuilder g;
  g.KvString("general.architecture", "test");
  g.Tensor("dense.weight", {3, 2}, kTypeF32, FloatBytes({1, 2, 3, 4, 5, 6}));
  g.Tensor("conv.weight", {2, 2, 3, 4}, kTypeF16, std::string(2 * 48, '\0'));
  g.Tensor("q.weight", {32, 2}, kTypeQ4_0, Q4_0Block() + Q4_0Block());
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Tensors()[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2, 3, 4, 5, 6}));           // row-major as stored
  EXPECT_EQ((*r)->Tensors()[1].shape, (std::vector<int64_t>{4, 3, 2, 2}));  // (out, in, kh, kw)
  EXPECT_EQ((*r)->Tensors()[1].dtype, DType::kF16);
  EXPECT_EQ((*r)->Tensors()[2].shape, (std::vector<int64_t>{2, 32}));
  const std::vector<float> q = LoadFloats(**r, 2);
  ASSERT_EQ(q.size(), 64u);
  for (int l = 0; l < 16; ++l) {
    EXPECT_EQ(q[l], l - 8.0f);
    EXPECT_EQ(q[l + 16], 7.0f - l);
    EXPECT_EQ(q[32 + l], l - 8.0f);
  }
  const auto plans = PlanModel((*r)->Tensors(), AnalysisOptions{});
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].type, LayerType::kDense);
  EXPECT_EQ(plans[1].type, LayerType::kConv2d);
}

TEST(GgufReaderTest, ServesF64AsStored) {
  GgufBuilder g;
  double v[2] = {1.5, -2.25};
  std::string bytes(16, '\0');
  std::memcpy(bytes.data(), v, 16);
  g.Tensor("w", {2}, /*F64*/ 28, bytes);
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Tensors()[0].dtype, DType::kF64);
  EXPECT_EQ(TensorBytes(**r, 0), bytes);
}

TEST(GgufReaderTest, ReadsVersion2) {
  GgufBuilder g;
  g.version = 2;
  g.Tensor("w", {2}, kTypeF32, FloatBytes({1, 2}));
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2}));
}

TEST(GgufReaderTest, LeavesOutTypesItDoesNotDecodeWithOneNote) {
  GgufBuilder g;
  g.Tensor("a.weight", {256, 2}, kTypeIQ2_XXS, std::string(2 * 66, '\0'));
  g.Tensor("b.weight", {4}, kTypeF32, FloatBytes({1, 2, 3, 4}));
  g.Tensor("c.weight", {256}, kTypeQ8_K, std::string(292, '\0'));
  g.Tensor("ids", {3}, kTypeI32, std::string(12, '\0'));
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->Tensors().size(), 1u);
  EXPECT_EQ((*r)->LeftOut(), (std::vector<std::string>{"a.weight", "c.weight", "ids"}));
  ASSERT_EQ((*r)->Notes().size(), 1u);
  EXPECT_HAS((*r)->Notes()[0], "left out 3 tensors of types htsr does not analyse");
  EXPECT_HAS((*r)->Notes()[0], "'a.weight' (IQ2_XXS), 'c.weight' (Q8_K), 'ids' (I32)");
}

TEST(GgufReaderTest, SkipsAllMetadataValueTypesIncludingNestedArrays) {
  GgufBuilder g;
  g.Kv("u8", kValU8, "x");
  g.Kv("u64", kValU64, LE<uint64_t>(7));
  g.Kv("f64", 12, LE<uint64_t>(0));
  g.Kv("bool", 7, std::string(1, '\1'));
  g.Kv("strings", kValArray,
       LE<uint32_t>(kValString) + LE<uint64_t>(2) + GgufStr("a") + GgufStr(""));
  const std::string inner =
      LE<uint32_t>(kValU32) + LE<uint64_t>(2) + LE<uint32_t>(1) + LE<uint32_t>(2);
  g.Kv("nested", kValArray, LE<uint32_t>(kValArray) + LE<uint64_t>(2) + inner + inner);
  g.Kv("general.alignment", kValU32, LE<uint32_t>(64));
  g.alignment = 64;
  g.Tensor("w", {2}, kTypeF32, FloatBytes({5, 6}));
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({5, 6}));
}

TEST(GgufReaderTest, DispatchesOnMagicEvenWithABraceAtByte8) {
  // 123 tensors: byte 8 is '{', which alone would look like safetensors.
  const std::string bytes = "GGUF" + LE<uint32_t>(3) + LE<uint64_t>(123) + LE<uint64_t>(0);
  auto r = Open(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "GGUF header declares 123 tensors");
}

// ---------------------------------------------------------------- hostile files

std::string ValidFile(GgufBuilder* g = nullptr) {
  GgufBuilder local;
  GgufBuilder& b = g ? *g : local;
  b.KvString("general.architecture", "llama");
  b.Kv("tokenizer.ggml.scores", kValArray, LE<uint32_t>(6) + LE<uint64_t>(2) + FloatBytes({1, 2}));
  b.Tensor("blk.0.attn_q.weight", {32, 2}, kTypeQ4_0, Q4_0Block() + Q4_0Block());
  b.Tensor("output_norm.weight", {2}, kTypeF32, FloatBytes({1, 2}));
  return b.Build();
}

TEST(GgufReaderTest, EveryTruncationIsAnError) {
  const std::string full = ValidFile();
  ASSERT_TRUE(Open(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = Open(full.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
  }
}

TEST(GgufReaderTest, TruncatedHeader) {
  auto r = Open(ValidFile().substr(0, 20));
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "mem.gguf: truncated GGUF: metadata count at byte 16");
}

TEST(GgufReaderTest, TruncatedMetadata) {
  GgufBuilder g;
  g.KvString("general.architecture", std::string(100, 'x'));
  // Cut inside the string value, which starts at byte 24 + 8 + 20 + 4.
  auto r = Open(g.Build().substr(0, 56 + 8 + 30));
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "metadata 'general.architecture' string at byte 56");
  EXPECT_HAS(r.status().message(), "declares 100 bytes but only 30 remain");
}

TEST(GgufReaderTest, TruncatedTensorData) {
  GgufBuilder g;
  const std::string full = ValidFile(&g);
  auto r = Open(full.substr(0, full.size() - 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_HAS(r.status().message(),
             absl::StrCat("tensor 'output_norm.weight' (info at byte ", g.InfoAt(1), ")"));
  EXPECT_HAS(r.status().message(), "F32 data of 8 bytes at offset 64");
  EXPECT_HAS(r.status().message(), "runs past the end of the file");
}

TEST(GgufReaderTest, LyingTensorAndMetadataCounts) {
  GgufBuilder g;
  g.Tensor("w", {2}, kTypeF32, FloatBytes({1, 2}));
  for (uint64_t n : {uint64_t{2}, uint64_t{1} << 40, ~uint64_t{0}}) {
    auto r = Open(g.Build(n));
    ASSERT_FALSE(r.ok()) << n;
  }
  auto r = Open(g.Build(~uint64_t{0}));
  EXPECT_HAS(r.status().message(), "declares 18446744073709551615 tensors");
  r = Open(g.Build(std::nullopt, uint64_t{1} << 62));
  EXPECT_HAS(r.status().message(), "4611686018427387904 metadata entries");
}

TEST(GgufReaderTest, LyingStringLength) {
  GgufBuilder g;
  g.Kv("k", kValString, LE<uint64_t>(~uint64_t{0} - 3) + "abc");
  auto r = Open(g.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "metadata 'k' string at byte 37 declares 18446744073709551612");
}

TEST(GgufReaderTest, HugeMetadataArrays) {
  for (uint32_t elem : {kValU8, kValU64, kValString, kValArray}) {
    GgufBuilder g;
    g.Kv("big", kValArray, LE<uint32_t>(elem) + LE<uint64_t>(uint64_t{1} << 61) + "xyz");
    auto r = Open(g.Build());
    ASSERT_FALSE(r.ok()) << elem;
    EXPECT_HAS(r.status().message(),
               "metadata 'big': array at byte 39 declares 2305843009213693952");
  }
}

TEST(GgufReaderTest, DeeplyNestedArrays) {
  std::string v = LE<uint32_t>(kValU8) + LE<uint64_t>(0);
  for (int i = 0; i < 20; ++i) v = LE<uint32_t>(kValArray) + LE<uint64_t>(1) + v;
  GgufBuilder g;
  g.Kv("deep", kValArray, v);
  auto r = Open(g.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "arrays nested deeper than 8");
}

TEST(GgufReaderTest, UnknownVersions) {
  const std::string rest = LE<uint64_t>(0) + LE<uint64_t>(0);
  auto r = Open("GGUF" + LE<uint32_t>(4) + rest);
  EXPECT_HAS(r.status().message(), "unknown GGUF version 4");
  r = Open("GGUF" + LE<uint32_t>(1) + rest);
  EXPECT_HAS(r.status().message(), "GGUF version 1");
  r = Open("GGUF" + LE<uint32_t>(0x03000000) + rest);
  EXPECT_HAS(r.status().message(), "big-endian GGUF");
}

TEST(GgufReaderTest, UnknownValueAndTensorTypes) {
  GgufBuilder g;
  g.Kv("k", 13, "");
  EXPECT_HAS(Open(g.Build()).status().message(), "metadata 'k': unknown value type 13 at byte 37");
  GgufBuilder t;
  t.Tensor("w", {32}, 4, std::string(18, '\0'));  // Q4_2, removed from ggml
  EXPECT_HAS(Open(t.Build()).status().message(),
             "tensor 'w' (info at byte 24): unknown ggml type 4");
}

TEST(GgufReaderTest, MoreThanFourDims) {
  GgufBuilder g;
  g.Tensor("w", {1, 1, 1, 1, 1}, kTypeF32, FloatBytes({1}));
  auto r = Open(g.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "mem.gguf: tensor 'w' (info at byte 24): n_dims 5 exceeds");
}

TEST(GgufReaderTest, NegativeAndOverflowingDims) {
  GgufBuilder g;
  g.Tensor("w", {2, -1}, kTypeF32, "");
  EXPECT_HAS(Open(g.Build()).status().message(), "ne[1] = -1 is negative");
  GgufBuilder h;
  h.Tensor("w", {int64_t{1} << 32, int64_t{1} << 32, 4}, kTypeF32, "");
  EXPECT_HAS(Open(h.Build()).status().message(),
             "tensor 'w' (info at byte 24): ne [4294967296, 4294967296, 4] overflows");
  // The element count fits, the byte count does not.
  GgufBuilder k;
  k.Tensor("w", {int64_t{1} << 31, int64_t{1} << 31}, kTypeF32, "");
  EXPECT_HAS(Open(k.Build()).status().message(), "overflows");
}

TEST(GgufReaderTest, MisalignedAndOutOfRangeOffsets) {
  GgufBuilder g;
  g.Tensor("w", {2}, kTypeF32, FloatBytes({1, 2}) + std::string(8, '\0'), 4);
  auto r = Open(g.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(),
             "tensor 'w' (info at byte 24): data offset 4 is not a multiple "
             "of the alignment 32");
  GgufBuilder h;
  h.Tensor("w", {2}, kTypeF32, FloatBytes({1, 2}), ~uint64_t{0} - 31);  // aligned, wraps
  r = Open(h.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "runs past the end of the file");
}

TEST(GgufReaderTest, BadAlignment) {
  GgufBuilder g;
  g.Kv("general.alignment", kValU32, LE<uint32_t>(48));
  EXPECT_HAS(Open(g.Build()).status().message(), "general.alignment 48 at byte 53 is not a power");
  GgufBuilder h;
  h.Kv("general.alignment", kValU64, LE<uint64_t>(64));
  EXPECT_HAS(Open(h.Build()).status().message(), "expected uint32");
}

TEST(GgufReaderTest, QuantisedRowsMustBeWholeBlocks) {
  GgufBuilder g;
  g.Tensor("blk.0.ffn.weight", {48, 2}, kTypeQ4_0, std::string(3 * 18, '\0'));
  auto r = Open(g.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(),
             "tensor 'blk.0.ffn.weight' (info at byte 24): Q4_0 stores rows "
             "of whole blocks of 32 values");
  EXPECT_HAS(r.status().message(), "is 48");
  // A quantised conv weight: ne[0] is the kernel width.
  GgufBuilder c;
  c.Tensor("conv.weight", {3, 3, 256, 8}, kTypeQ4_K, std::string(8 * 256 * 9 / 256 * 144, '\0'));
  r = Open(c.Build());
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "a conv weight's kernel width) is 3");
}

TEST(GgufReaderTest, DuplicateNamesAndKeys) {
  GgufBuilder g;
  g.Tensor("w", {1}, kTypeF32, FloatBytes({1}));
  g.Tensor("w", {1}, kTypeF32, FloatBytes({2}));
  EXPECT_HAS(Open(g.Build()).status().message(), "duplicate tensor name 'w'");
  GgufBuilder h;
  h.KvString("a", "x");
  h.KvString("a", "y");
  EXPECT_HAS(Open(h.Build()).status().message(), "duplicate metadata key 'a'");
}

TEST(GgufReaderTest, EmptyAndZeroSizedTensors) {
  GgufBuilder g;
  auto r = Open(g.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->Tensors().empty());
  GgufBuilder z;
  z.Tensor("w", {0, 4}, kTypeF32, "");
  r = Open(z.Build());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Tensors()[0].shape, (std::vector<int64_t>{4, 0}));
  EXPECT_EQ(TensorBytes(**r, 0), "");
}

TEST(GgufReaderTest, DequantizeRefusesTypesItDoesNotDecode) {
  float out[256];
  const std::string zeros(292, '\0');
  EXPECT_FALSE(gguf::Dequantize(gguf::GgmlType::kQ8_K,
                                reinterpret_cast<const std::byte*>(zeros.data()), 1, out));
  EXPECT_TRUE(gguf::Dequantize(gguf::GgmlType::kQ4_K,
                               reinterpret_cast<const std::byte*>(zeros.data()), 1, out));
  EXPECT_EQ(gguf::FindGgmlType(4), nullptr);
  EXPECT_EQ(std::string(gguf::FindGgmlType(kTypeF16)->name), "F16");
}

}  // namespace
}  // namespace htsr::readers::testing
