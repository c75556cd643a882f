#include <sstream>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

std::string DictPickle(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string p = pk::Proto() + pk::OrderedDict() + "(";
  for (const auto& [k, v] : items) p += pk::Str(k) + v;
  return p + "u.";
}

TEST(PytorchReaderTest, InsertionOrderViewsAndOffsets) {
  // Storage "0": 12 floats 0..11. A 3x4 contiguous tensor, its transpose, a row slice at
  // offset 4, and a column slice with stride (4, 1).
  std::vector<float> s0(12);
  for (int i = 0; i < 12; ++i) s0[i] = static_cast<float>(i);
  const std::string pkl = DictPickle({
      {"z.weight", pk::Tensor("FloatStorage", "0", 12, 0, {3, 4}, {4, 1})},
      {"t.weight", pk::Tensor("FloatStorage", "0", 12, 0, {4, 3}, {1, 4})},
      {"rows.weight", pk::Tensor("FloatStorage", "0", 12, 4, {2, 4}, {4, 1})},
      {"cols.weight", pk::Tensor("FloatStorage", "0", 12, 1, {3, 2}, {4, 1})},
      {"epoch", pk::Int(3)},
  });
  auto r = OpenCheckpointFromBuffer("m.pt", TorchZip(pkl, {{"0", FloatBytes(s0)}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Format(), "pytorch");
  ASSERT_EQ((*r)->Tensors().size(), 4u);
  EXPECT_EQ((*r)->Tensors()[0].name, "z.weight");
  EXPECT_EQ((*r)->Tensors()[1].name, "t.weight");
  EXPECT_EQ((*r)->Tensors()[1].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes(s0));
  EXPECT_EQ(TensorBytes(**r, 1), FloatBytes({0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(TensorBytes(**r, 2), FloatBytes({4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(TensorBytes(**r, 3), FloatBytes({1, 2, 5, 6, 9, 10}));
  EXPECT_EQ((*r)->TotalBytes(), (12u + 12u + 8u + 6u) * 4u);
}

TEST(PytorchReaderTest, ViewsPastTheirStorageAreRefused) {
  std::vector<float> s0(12, 1.0f);
  for (const std::string& bad : {
           pk::Tensor("FloatStorage", "0", 12, 1, {3, 4}, {4, 1}),   // one past the end
           pk::Tensor("FloatStorage", "0", 12, 0, {4, 4}, {1, 4}),   // stride walks off
           pk::Tensor("FloatStorage", "0", 12, -1, {2}, {1}),        // negative offset
           pk::Tensor("FloatStorage", "0", 12, 0, {2, 2}, {-1, 1}),  // negative stride
           pk::Tensor("FloatStorage", "0", 12, 0, {2147483647, 2147483647, 2147483647},
                      {2147483647, 2147483647, 1}),            // overflow
           pk::Tensor("FloatStorage", "9", 12, 0, {2}, {1}),   // missing storage
           pk::Tensor("DoubleStorage", "0", 12, 0, {7}, {1}),  // wider dtype
       }) {
    auto r = OpenCheckpointFromBuffer("v.pt",
                                      TorchZip(DictPickle({{"w", bad}}), {{"0", FloatBytes(s0)}}));
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.status().message(), "'w'");
  }
}

TEST(PytorchReaderTest, NestedDictsAndRefusals) {
  const std::string inner = pk::OrderedDict() + "(" + pk::Str("w") +
                            pk::Tensor("FloatStorage", "0", 2, 0, {2}, {1}) + "u";
  const std::string nested =
      pk::Proto() + "}(" + pk::Str("epoch") + pk::Int(1) + pk::Str("state_dict") + inner + "u.";
  auto r = OpenCheckpointFromBuffer("n.pt", TorchZip(nested, {{"0", FloatBytes({1, 2})}}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->Tensors().size(), 1u);
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2}));

  const std::string none = pk::Proto() + "}(" + pk::Str("epoch") + pk::Int(1) + "u.";
  auto e = OpenCheckpointFromBuffer("e.pt", TorchZip(none, {}));
  ASSERT_FALSE(e.ok());
  EXPECT_HAS(e.status().message(), "no tensors");

  const std::string evil = pk::Proto() + pk::Global("os", "system") + pk::Str("id") + "\x85R.";
  auto ev = OpenCheckpointFromBuffer("evil.pt", TorchZip(evil, {}));
  ASSERT_FALSE(ev.ok());
  EXPECT_HAS(ev.status().message(),
             "refusing to execute pickle global 'os.system' in "
             "evil.pt:archive/data.pkl at offset 2");

  auto legacy = OpenCheckpointFromBuffer("old.pt", std::string("\x80\x02\x8a\x0a", 4));
  ASSERT_FALSE(legacy.ok());
  EXPECT_HAS(legacy.status().message(), "_use_new_zipfile_serialization=True");

  ZipWriter ts;
  ts.Add("m/constants.pkl", pk::Proto() + ").");
  ts.Add("m/code/__torch__.py", "x");
  ts.Add("m/data.pkl", pk::Proto() + "}.");
  auto script = OpenCheckpointFromBuffer("ts.pt", ts.Finish());
  ASSERT_FALSE(script.ok());
  EXPECT_HAS(script.status().message(), "TorchScript");

  ZipWriter be;
  be.Add("a/data.pkl", nested);
  be.Add("a/byteorder", "big");
  be.Add("a/data/0", FloatBytes({1, 2}));
  EXPECT_HAS(OpenCheckpointFromBuffer("be.pt", be.Finish()).status().message(), "byteorder");
}

TEST(PytorchReaderTest, EveryTruncationIsAnError) {
  const std::string full = ReadFileOrDie(DataPath("readers/views.pt"));
  ASSERT_GT(full.size(), 1000u);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(OpenCheckpointFromBuffer("cut.pt", full.substr(0, n)).ok()) << n;
  }
}

// The fixture's views must equal the contiguous copies that safetensors.torch wrote.
TEST(PytorchReaderTest, ViewsFixtureMatchesSafetensorsByteForByte) {
  auto pt = OpenCheckpoint(DataPath("readers/views.pt"));
  auto st = OpenCheckpoint(DataPath("readers/views.safetensors"));
  ASSERT_TRUE(pt.ok()) << pt.status();
  ASSERT_TRUE(st.ok()) << st.status();
  std::istringstream order(ReadFileOrDie(DataPath("readers/views.pt.order.txt")));
  std::string name;
  size_t i = 0;
  while (std::getline(order, name)) {
    ASSERT_LT(i, (*pt)->Tensors().size());
    EXPECT_EQ((*pt)->Tensors()[i].name, name);
    const size_t j = IndexOf(**st, name);
    ASSERT_NE(j, SIZE_MAX) << name;
    EXPECT_EQ((*pt)->Tensors()[i].dtype, (*st)->Tensors()[j].dtype) << name;
    EXPECT_EQ((*pt)->Tensors()[i].shape, (*st)->Tensors()[j].shape) << name;
    EXPECT_EQ(TensorBytes(**pt, i), TensorBytes(**st, j)) << name;
    ++i;
  }
  EXPECT_EQ(i, (*pt)->Tensors().size());
  auto nested = OpenCheckpoint(DataPath("readers/nested_model.pt"));
  ASSERT_TRUE(nested.ok()) << nested.status();
  ASSERT_EQ((*nested)->Tensors().size(), (*pt)->Tensors().size());
  for (size_t k = 0; k < (*pt)->Tensors().size(); ++k) {
    EXPECT_EQ(TensorBytes(**nested, k), TensorBytes(**pt, k));
  }
}

TEST(PytorchReaderTest, SyntheticStateDictLayout) {
  auto r = OpenCheckpoint(DataPath("synthetic/fixtures/state_dict.pt"));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& t = (*r)->Tensors();
  ASSERT_EQ(t.size(), 14u);
  EXPECT_EQ(t[0].name, "embed.weight");
  EXPECT_EQ(t[1].name, "layers.2.attn.weight");
  EXPECT_EQ(t[4].name, "layers.10.mlp.weight");
  EXPECT_EQ(t[13].name, "num_batches_tracked");
  EXPECT_EQ(t[13].shape.size(), 0u);
  EXPECT_EQ(t[13].dtype, DType::kI64);
  EXPECT_EQ(t[IndexOf(**r, "half.weight")].dtype, DType::kF16);
  EXPECT_EQ(t[IndexOf(**r, "bhalf.weight")].dtype, DType::kBF16);
  // Tied weights share a storage and read the same bytes.
  EXPECT_EQ(TensorBytes(**r, IndexOf(**r, "lm_head.weight")), TensorBytes(**r, 0));
  // Every tensor, views included, equals torch's own contiguous copy.
  auto c = OpenCheckpoint(DataPath("readers/state_dict_contiguous.safetensors"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ((*c)->Tensors().size(), t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    const size_t j = IndexOf(**c, t[i].name);
    ASSERT_NE(j, SIZE_MAX) << t[i].name;
    EXPECT_EQ(t[i].shape, (*c)->Tensors()[j].shape) << t[i].name;
    EXPECT_EQ(TensorBytes(**r, i), TensorBytes(**c, j)) << t[i].name;
  }
  for (size_t i = 0; i < t.size(); ++i) ASSERT_TRUE((*r)->Load(i).ok()) << t[i].name;
}

// The legacy (non-zip) file holds the same state dict as the nested zip one.
TEST(PytorchReaderTest, LegacyFixtureMatchesItsZipTwin) {
  auto legacy = OpenCheckpoint(DataPath("synthetic/fixtures/legacy_state_dict.pt"));
  auto zip = OpenCheckpoint(DataPath("synthetic/fixtures/nested_state_dict.pt"));
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  ASSERT_TRUE(zip.ok()) << zip.status();
  EXPECT_EQ((*legacy)->Format(), "pytorch");
  ASSERT_EQ((*legacy)->Tensors().size(), (*zip)->Tensors().size());
  ASSERT_GT((*legacy)->Tensors().size(), 3u);
  for (size_t i = 0; i < (*zip)->Tensors().size(); ++i) {
    EXPECT_EQ((*legacy)->Tensors()[i].name, (*zip)->Tensors()[i].name);
    EXPECT_EQ((*legacy)->Tensors()[i].shape, (*zip)->Tensors()[i].shape);
    EXPECT_EQ(TensorBytes(**legacy, i), TensorBytes(**zip, i)) << (*zip)->Tensors()[i].name;
  }
}

TEST(PytorchReaderTest, LegacyViewsMatchTorchsContiguousCopies) {
  auto legacy = OpenCheckpoint(DataPath("readers/legacy_small.pt"));
  auto st = OpenCheckpoint(DataPath("readers/legacy_small.safetensors"));
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ((*legacy)->Tensors().size(), 3u);
  EXPECT_EQ((*legacy)->Tensors()[1].name, "t.weight");
  EXPECT_EQ((*legacy)->Tensors()[1].shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ((*legacy)->Tensors()[2].dtype, DType::kF16);
  for (size_t i = 0; i < 3; ++i) {
    const size_t j = IndexOf(**st, (*legacy)->Tensors()[i].name);
    ASSERT_NE(j, SIZE_MAX);
    EXPECT_EQ(TensorBytes(**legacy, i), TensorBytes(**st, j));
  }
}

// Tensors whose elements htsr does not analyse (quantised qint8, per tensor and per
// channel; complex64; a dynamically quantised Linear's packed parameters) are left out
// with one note; the rest of the file reads as torch wrote it (its safetensors twin holds
// those tensors alone, byte for byte). The reference fails on such files as a whole.
TEST(PytorchReaderTest, QuantizedAndComplexTensorsAreLeftOut) {
  auto twin = OpenCheckpoint(DataPath("readers/quantized.safetensors"));
  ASSERT_TRUE(twin.ok()) << twin.status();
  for (const char* file : {"readers/quantized.pt", "readers/quantized_legacy.pt"}) {
    auto r = OpenCheckpoint(DataPath(file));
    ASSERT_TRUE(r.ok()) << file << ": " << r.status();
    std::vector<std::string> names;
    for (const TensorInfo& t : (*r)->Tensors()) names.push_back(t.name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"a.weight", "b.weight", "dyn.0.scale", "dyn.0.zero_point"}))
        << file;
    EXPECT_EQ((*r)->LeftOut(),
              (std::vector<std::string>{"q.weight", "qc.weight", "c.weight", "q4.weight",
                                        "q2.weight", "dyn.0._packed_params._packed_params"}));
    ASSERT_EQ((*r)->Notes().size(), 1u) << file;
    EXPECT_HAS((*r)->Notes()[0], "left out 6 tensors of types htsr does not analyse");
    EXPECT_HAS((*r)->Notes()[0], "'q.weight' (quantized, torch.QInt8Storage)");
    EXPECT_HAS((*r)->Notes()[0], "'c.weight' (torch.ComplexFloatStorage)");
    ASSERT_EQ((*twin)->Tensors().size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      const size_t j = IndexOf(**twin, names[i]);
      ASSERT_NE(j, SIZE_MAX) << names[i];
      EXPECT_EQ((*r)->Tensors()[i].dtype, (*twin)->Tensors()[j].dtype) << names[i];
      EXPECT_EQ(TensorBytes(**r, i), TensorBytes(**twin, j)) << names[i];
    }
  }
}

// Left out is not unchecked: a view past the end of an unread storage is still a broken
// file, with the element size of the storage's type; unknown storage types still fail.
TEST(PytorchReaderTest, LeftOutTensorsAreStillBoundsChecked) {
  const std::string bytes(16, '\0');
  const std::string fits = pk::Tensor("ComplexDoubleStorage", "0", 1, 0, {1}, {1});
  const std::string past = pk::Tensor("ComplexDoubleStorage", "0", 1, 0, {2}, {1});
  auto ok = OpenCheckpointFromBuffer("c.pt", TorchZip(DictPickle({{"w", fits}}), {{"0", bytes}}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->LeftOut(), (std::vector<std::string>{"w"}));
  auto bad = OpenCheckpointFromBuffer("c.pt", TorchZip(DictPickle({{"w", past}}), {{"0", bytes}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_HAS(bad.status().message(), "'w'");
  const std::string odd = pk::Tensor("SparseStorage", "0", 1, 0, {1}, {1});
  auto unknown =
      OpenCheckpointFromBuffer("u.pt", TorchZip(DictPickle({{"w", odd}}), {{"0", bytes}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_HAS(unknown.status().message(), "SparseStorage");
}

// Packed sub-byte storages hold ceil(n / per_byte) bytes per row: a 7 x 5 quint4x2 tensor
// needs 7 * 3 bytes, a 6 x 5 quint2x4 one 6 * 2.
TEST(PytorchReaderTest, PackedQuantizedTensorsAreBoundsCheckedByTheirPacking) {
  auto qtensor = [](const std::string& type, int32_t numel, std::vector<int32_t> size) {
    std::string t = pk::Tensor(type, "0", numel, 0, size, {size[1], 1});
    return t.replace(t.find("_rebuild_tensor_v2"), 18, "_rebuild_qtensor");
  };
  for (const auto& [type, rows, bytes] :
       {std::tuple{"QUInt4x2Storage", 7, 21}, std::tuple{"QUInt2x4Storage", 6, 12}}) {
    const std::string full(bytes, '\x11'), short_by_one(bytes - 1, '\x11');
    auto ok = OpenCheckpointFromBuffer(
        "p.pt", TorchZip(DictPickle({{"w", qtensor(type, bytes, {rows, 5})},
                                     {"f", pk::Tensor("FloatStorage", "1", 2, 0, {2}, {1})}}),
                         {{"0", full}, {"1", FloatBytes({1, 2})}}));
    ASSERT_TRUE(ok.ok()) << type << ": " << ok.status();
    EXPECT_EQ((*ok)->LeftOut(), (std::vector<std::string>{"w"}));
    EXPECT_HAS((*ok)->Notes()[0], "'w' (quantized, torch." + std::string(type) + ")");
    auto bad = OpenCheckpointFromBuffer(
        "p.pt",
        TorchZip(DictPickle({{"w", qtensor(type, bytes - 1, {rows, 5})}}), {{"0", short_by_one}}));
    ASSERT_FALSE(bad.ok()) << type;
    EXPECT_HAS(bad.status().message(), "does not fit its");
  }
}

// A key the pickle repeats (only crafted files do): the read tensor wins, whichever came
// first, and the name is not also listed as left out.
TEST(PytorchReaderTest, RepeatedKeyKeepsTheReadTensor) {
  const std::string bytes(16, '\0');
  const std::string complex = pk::Tensor("ComplexDoubleStorage", "0", 1, 0, {1}, {1});
  const std::string real = pk::Tensor("FloatStorage", "1", 2, 0, {2}, {1});
  for (const auto& items :
       {std::vector<std::pair<std::string, std::string>>{{"w", complex}, {"w", real}},
        std::vector<std::pair<std::string, std::string>>{{"w", real}, {"w", complex}}}) {
    auto r = OpenCheckpointFromBuffer(
        "d.pt", TorchZip(DictPickle(items), {{"0", bytes}, {"1", FloatBytes({1, 2})}}));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ((*r)->Tensors().size(), 1u);
    EXPECT_TRUE((*r)->LeftOut().empty());
  }
}

TEST(PytorchReaderTest, EveryQuantizedTruncationIsAnError) {
  for (const char* file : {"readers/quantized.pt", "readers/quantized_legacy.pt"}) {
    const std::string full = ReadFileOrDie(DataPath(file));
    for (size_t n = 0; n < full.size(); ++n) {
      EXPECT_FALSE(OpenCheckpointFromBuffer("cut.pt", full.substr(0, n)).ok()) << file << " " << n;
    }
  }
}

TEST(PytorchReaderTest, EveryLegacyTruncationIsAnError) {
  const std::string full = ReadFileOrDie(DataPath("synthetic/fixtures/legacy_state_dict.pt"));
  ASSERT_GT(full.size(), 1000u);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(OpenCheckpointFromBuffer("cut.pt", full.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace htsr::readers::testing
