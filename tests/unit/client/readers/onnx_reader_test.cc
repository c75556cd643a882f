// The ONNX reader: fixtures exported by torch from real weights (tests/data/readers/onnx/,
// make_onnx_fixtures.py) against the same tensors in safetensors, roles from the graph, and
// hostile models built with the generated htsr.onnx messages.
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "onnx/onnx_subset.pb.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"
#include "readers/format_readers.h"
#include "readers/mapped_file.h"
#include "readers/onnx_format.h"

namespace htsr::readers::testing {
namespace {

namespace pb = ::htsr::onnx;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path() / "htsr_onnx_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string path_;
};

pb::TensorProto Raw(const std::string& name, std::vector<int64_t> dims,
                    const std::vector<float>& values) {
  pb::TensorProto t;
  t.set_name(name);
  t.set_data_type(pb::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(FloatBytes(values));
  return t;
}

pb::NodeProto Node(const std::string& op, std::vector<std::string> inputs, int trans_b = -1) {
  pb::NodeProto n;
  n.set_op_type(op);
  for (auto& i : inputs) n.add_input(i);
  if (trans_b >= 0) {
    pb::AttributeProto* a = n.add_attribute();
    a->set_name("transB");
    a->set_type(pb::AttributeProto::INT);
    a->set_i(trans_b);
  }
  return n;
}

std::string Model(const std::vector<pb::TensorProto>& inits,
                  const std::vector<pb::NodeProto>& nodes = {}) {
  pb::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("test");
  pb::GraphProto* g = m.mutable_graph();
  for (const auto& n : nodes) *g->add_node() = n;
  for (const auto& t : inits) *g->add_initializer() = t;
  return m.SerializeAsString();
}

std::vector<float> Iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

absl::Status Open(const std::string& bytes) {
  return OpenCheckpointFromBuffer("bad.onnx", bytes).status();
}

std::unique_ptr<CheckpointReader> OpenOrDie(const std::string& path) {
  auto r = OpenCheckpoint(path);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

// Every weight of the torch export equals the module's own tensor (PyTorch name and (out, in)
// layout), byte for byte: MatMul's B comes back transposed, Gemm's (transB=1), Conv's and
// Gather's as stored; in the external-data copy the Gemm's B is stored (in, out) (transB=0).
TEST(OnnxReaderTest, TorchExportEqualsStateDict) {
  auto st = OpenOrDie(DataPath("readers/onnx/minilm_slice.safetensors"));
  ASSERT_NE(st, nullptr);
  std::ifstream names_csv(DataPath("readers/onnx/minilm_slice.names.csv"));
  std::vector<std::pair<std::string, std::string>> names;  // onnx layer, torch layer
  std::string line;
  std::getline(names_csv, line);
  while (std::getline(names_csv, line)) {
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1);
    names.emplace_back(line.substr(0, c1), line.substr(c1 + 1, c2 - c1 - 1));
  }
  ASSERT_EQ(names.size(), 6u);
  for (const char* file : {"minilm_slice.onnx", "minilm_slice_external.onnx"}) {
    SCOPED_TRACE(file);
    auto r = OpenOrDie(DataPath(std::string("readers/onnx/") + file));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->Format(), "onnx");
    for (const auto& [onnx_layer, torch_layer] : names) {
      const size_t i = IndexOf(*r, onnx_layer + ".weight");
      const size_t j = IndexOf(*st, torch_layer + ".weight");
      ASSERT_LT(i, r->Tensors().size()) << onnx_layer;
      ASSERT_LT(j, st->Tensors().size()) << torch_layer;
      EXPECT_EQ(r->Tensors()[i].shape, st->Tensors()[j].shape) << onnx_layer;
      EXPECT_EQ(TensorBytes(*r, i), TensorBytes(*st, j)) << onnx_layer;
    }
    // Biases keep their names (and stay out of the layer list by docs/spec.md §1's rule).
    EXPECT_LT(IndexOf(*r, "fc1.bias"), r->Tensors().size());
  }
}

TEST(OnnxReaderTest, TypedFieldsEqualSafetensors) {
  auto r = OpenOrDie(DataPath("readers/onnx/typed_fields.onnx"));
  auto st = OpenOrDie(DataPath("readers/onnx/typed_fields.safetensors"));
  ASSERT_NE(r, nullptr);
  ASSERT_NE(st, nullptr);
  ASSERT_EQ(r->Tensors().size(), 5u);
  for (const char* name :
       {"f32.weight", "f64.weight", "f16.weight", "bf16.weight", "gemm_b.weight"}) {
    const size_t i = IndexOf(*r, name), j = IndexOf(*st, name);
    ASSERT_LT(i, r->Tensors().size()) << name;
    EXPECT_EQ(r->Tensors()[i].dtype, st->Tensors()[j].dtype) << name;
    EXPECT_EQ(r->Tensors()[i].shape, st->Tensors()[j].shape) << name;
    EXPECT_EQ(TensorBytes(*r, i), TensorBytes(*st, j)) << name;
  }
  ASSERT_EQ(r->LeftOut(), std::vector<std::string>{"ints"});
  ASSERT_FALSE(r->Notes().empty());
  EXPECT_HAS(r->Notes()[0], "'ints' (INT64)");
}

TEST(OnnxReaderTest, RolesFromTheGraph) {
  const std::string bytes = Model(
      {Raw("gemm0", {3, 5}, Iota(15)), Raw("gemm1", {5, 3}, Iota(15)), Raw("mm", {2, 4}, Iota(8)),
       Raw("emb", {6, 2}, Iota(12)), Raw("conv", {4, 2, 3, 3}, Iota(72)),
       Raw("loose", {4, 4}, Iota(16)), Raw("bias", {5}, Iota(5))},
      {Node("Gemm", {"x", "gemm0", "bias"}, 0), Node("Gemm", {"x", "gemm1"}, 1),
       Node("MatMul", {"x", "mm"}), Node("Gather", {"emb", "idx"}), Node("Conv", {"x", "conv"}),
       Node("Add", {"loose", "x"})});
  auto r = OpenCheckpointFromBuffer("roles.onnx", bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& t = (*r)->Tensors();
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t[0].name, "gemm0.weight");
  EXPECT_EQ(t[0].shape, (std::vector<int64_t>{5, 3}));  // transB=0: stored (in, out)
  EXPECT_EQ(t[1].name, "gemm1.weight");
  EXPECT_EQ(t[1].shape, (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(t[2].name, "mm.weight");
  EXPECT_EQ(t[2].shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(t[3].name, "emb.weight");
  EXPECT_EQ(t[4].name, "conv.weight");
  EXPECT_EQ(t[4].shape, (std::vector<int64_t>{4, 2, 3, 3}));
  EXPECT_EQ(t[5].name, "loose");  // consumed by no weight input: by name and shape
  EXPECT_EQ(t[6].name, "bias");
  // The transposed view: element [o][i] is stored at [i][o].
  std::vector<float> mm(8);
  const std::string got = TensorBytes(**r, 2);
  ASSERT_EQ(got.size(), 32u);
  std::memcpy(mm.data(), got.data(), 32);
  EXPECT_EQ(mm, (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(TensorBytes(**r, 1), FloatBytes(Iota(15)));
  ASSERT_FALSE((*r)->Notes().empty());
  EXPECT_HAS((*r)->Notes()[0], "5 initializers feed a weight input");
  EXPECT_HAS((*r)->Notes()[0], "2 stored (in, out)");
}

TEST(OnnxReaderTest, Detection) {
  const std::string bytes = Model({Raw("w", {2, 2}, Iota(4))});
  EXPECT_TRUE(onnx::LooksLikeOnnx(std::as_bytes(std::span(bytes.data(), bytes.size()))));
  // A safetensors header whose length byte is 0x08 stays safetensors.
  std::string header = R"({"a.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.append((256 + 8 - header.size() % 256) % 256, ' ');
  ASSERT_EQ(header.size() % 256, 8u) << header.size();
  auto st = OpenCheckpointFromBuffer("x", Safetensors(header, FloatBytes({1})));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ((*st)->Format(), "safetensors");
  // Random bytes starting with 0x08 but no valid ir_version: not ONNX.
  EXPECT_HAS(Open(std::string("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 11)).message(),
             "unrecognized checkpoint format");
}

TEST(OnnxReaderTest, EveryTruncationIsAnError) {
  // The graph is the last field here, so every proper prefix cuts it (or leaves none).
  const std::string full = Model({Raw("a", {2, 3}, Iota(6)), Raw("b", {3, 2}, Iota(6))},
                                 {Node("Gemm", {"x", "a"}, 1), Node("MatMul", {"x", "b"})});
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = OpenCheckpointFromBuffer("cut.onnx", full.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
  }
  // A torch export: its graph is followed only by the opset_import (a few bytes).
  const std::string real = ReadFileOrDie(DataPath("readers/onnx/minilm_slice.onnx"));
  for (size_t n = 0; n + 32 < real.size(); n += 61) {
    auto r = OpenCheckpointFromBuffer("cut.onnx", real.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
    if (n > 2) EXPECT_HAS(r.status().message(), "cut.onnx");
  }
}

TEST(OnnxReaderTest, HostileTensors) {
  // raw_data shorter than the dims need.
  pb::TensorProto t = Raw("w", {4, 4}, Iota(15));
  EXPECT_HAS(Open(Model({t})).message(), "holds 60 bytes but shape [4, 4] of FLOAT needs 64");
  // Overflowing and negative dims.
  t = Raw("big", {int64_t{1} << 40, int64_t{1} << 40}, {});
  EXPECT_HAS(Open(Model({t})).message(), "overflows");
  t = Raw("neg", {-1, 4}, {});
  EXPECT_HAS(Open(Model({t})).message(), "tensor 'neg'");
  EXPECT_HAS(Open(Model({t})).message(), "negative dimension");
  // More dims than any tensor has.
  t = Raw("many", {}, {1});
  for (int i = 0; i < 100; ++i) t.add_dims(1);
  EXPECT_HAS(Open(Model({t})).message(), "more than 64 dims");
  // float_data with the wrong count, raw_data and float_data at once, wrong field.
  pb::TensorProto typed;
  typed.set_name("typed");
  typed.set_data_type(pb::TensorProto::FLOAT);
  typed.add_dims(2);
  typed.add_dims(3);
  for (int i = 0; i < 5; ++i) typed.add_float_data(1.0f);
  EXPECT_HAS(Open(Model({typed})).message(), "float_data");
  EXPECT_HAS(Open(Model({typed})).message(), "holds 5 values but shape [2, 3] needs 6");
  typed.add_float_data(1.0f);
  typed.set_raw_data(FloatBytes(Iota(6)));
  EXPECT_HAS(Open(Model({typed})).message(), "both raw_data and float_data");
  typed.clear_raw_data();
  typed.set_data_type(pb::TensorProto::DOUBLE);
  EXPECT_HAS(Open(Model({typed})).message(), "DOUBLE data in float_data");
  // FLOAT16 bits out of range surface on Load, naming the tensor.
  pb::TensorProto half;
  half.set_name("half");
  half.set_data_type(pb::TensorProto::FLOAT16);
  half.add_dims(2);
  half.add_dims(2);
  for (int v : {0x3c00, 0x4000, 70000, 0}) half.add_int32_data(v);
  auto r = OpenCheckpointFromBuffer("half.onnx", Model({half}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_HAS((*r)->Load(0).status().message(), "tensor 'half'");
  EXPECT_HAS((*r)->Load(0).status().message(), "value 2 (70000)");
  // No data at all; duplicate names; segments; unknown data types are left out.
  pb::TensorProto empty;
  empty.set_name("empty");
  empty.set_data_type(pb::TensorProto::FLOAT);
  empty.add_dims(3);
  EXPECT_HAS(Open(Model({empty})).message(), "has no data");
  EXPECT_HAS(Open(Model({Raw("d", {1}, {1}), Raw("d", {1}, {2})})).message(), "'d' appears twice");
  pb::TensorProto seg = Raw("seg", {1}, {1});
  seg.mutable_segment()->set_begin(0);
  EXPECT_HAS(Open(Model({seg})).message(), "segmented");
  pb::TensorProto future = Raw("future", {2}, {1, 2});
  future.set_data_type(99);
  auto f = OpenCheckpointFromBuffer("future.onnx", Model({future}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->LeftOut(), std::vector<std::string>{"future"});
  EXPECT_HAS((*f)->Notes()[0], "data type 99");
}

TEST(OnnxReaderTest, HostileWire) {
  // A length that runs past the end of the file, a bad wire type, a huge packed field.
  std::string model = Model({Raw("w", {2, 2}, Iota(4))});
  std::string cut = model.substr(0, model.size() - 3);
  EXPECT_HAS(Open(cut).message(), "truncated file?");
  EXPECT_HAS(Open(cut).message(), "bad.onnx");
  // field 7 as a start-group, after a well-formed producer_name
  const std::string groups = std::string("\x08\x08\x12\x00\x3b", 5);
  EXPECT_HAS(Open(groups).message(), "wire type");
  EXPECT_HAS(Open(std::string("\x08\x08", 2)).message(), "has no graph");
  // 16 MB of packed float_data in a tensor of 4 values: counted on the wire, refused.
  pb::TensorProto huge;
  huge.set_name("huge");
  huge.set_data_type(pb::TensorProto::FLOAT);
  huge.add_dims(4);
  for (int i = 0; i < (1 << 22); ++i) huge.add_float_data(0.5f);
  EXPECT_HAS(Open(Model({huge})).message(), "holds 4194304 values but shape [4] needs 4");
  // external_data entries without end.
  pb::TensorProto ext = Raw("ext", {1}, {});
  ext.clear_raw_data();
  ext.set_data_location(pb::TensorProto::EXTERNAL);
  for (int i = 0; i < 100; ++i) {
    auto* kv = ext.add_external_data();
    kv->set_key("k");
    kv->set_value("v");
  }
  EXPECT_HAS(Open(Model({ext})).message(), "more than 64 external_data entries");
}

pb::TensorProto External(const std::string& location, int64_t offset = -1, int64_t length = -1) {
  pb::TensorProto t;
  t.set_name("ext.weight");
  t.set_data_type(pb::TensorProto::FLOAT);
  t.add_dims(2);
  t.add_dims(2);
  t.set_data_location(pb::TensorProto::EXTERNAL);
  auto add = [&](const std::string& k, const std::string& v) {
    auto* kv = t.add_external_data();
    kv->set_key(k);
    kv->set_value(v);
  };
  add("location", location);
  if (offset >= 0) add("offset", std::to_string(offset));
  if (length >= 0) add("length", std::to_string(length));
  return t;
}

TEST(OnnxReaderTest, ExternalData) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() + "/model");
  std::filesystem::create_directory(dir.path() + "/model/sub");
  dir.Write("model/sub/w.bin", std::string(8, 'x') + FloatBytes({1, 2, 3, 4}));
  dir.Write("secret.bin", FloatBytes({9, 9, 9, 9}));
  auto open = [&](const pb::TensorProto& t) {
    return OpenCheckpoint(dir.Write("model/m.onnx", Model({t})));
  };
  auto ok = open(External("sub/w.bin", 8, 16));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(TensorBytes(**ok, 0), FloatBytes({1, 2, 3, 4}));
  // Past the end, wrong length, garbage offset.
  EXPECT_HAS(open(External("sub/w.bin", 12)).status().message(), "past the end");
  EXPECT_HAS(open(External("sub/w.bin", 12)).status().message(), "tensor 'ext.weight'");
  EXPECT_HAS(open(External("sub/w.bin", 0, 12)).status().message(), "length 12");
  EXPECT_HAS(open(External("sub/w.bin", int64_t{1} << 62)).status().message(), "past the end");
  pb::TensorProto bad = External("sub/w.bin");
  bad.mutable_external_data(0)->set_key("offset");
  bad.mutable_external_data(0)->set_value("-8");
  auto* loc = bad.add_external_data();
  loc->set_key("location");
  loc->set_value("sub/w.bin");
  EXPECT_HAS(open(bad).status().message(), "offset '-8' is not a non-negative integer");
  // Outside the model's folder: absolute, "..", and a symbolic link.
  for (const std::string& where : {dir.path() + "/secret.bin", std::string("../secret.bin"),
                                   std::string("sub/../../secret.bin")}) {
    auto r = open(External(where));
    ASSERT_FALSE(r.ok()) << where;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
    EXPECT_HAS(r.status().message(), "is refused");
  }
  ASSERT_EQ(symlink((dir.path() + "/secret.bin").c_str(), (dir.path() + "/model/link").c_str()), 0);
  auto link = open(External("link"));
  ASSERT_FALSE(link.ok());
  EXPECT_HAS(link.status().message(), "symbolic link");
  EXPECT_HAS(open(External("missing.bin")).status().message(), "no such file");
  // A model in memory has no folder.
  EXPECT_HAS(Open(Model({External("sub/w.bin")})).message(), "read from memory");
}

}  // namespace
}  // namespace htsr::readers::testing
