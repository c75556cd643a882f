// The Keras / HDF5 reader (client/readers/keras_reader.cc, hdf5_file.cc) on the fixtures of
// tests/tools/make_keras_fixtures.py: real O-Net and MiniLM weights saved by Keras 3 must read
// as the same bytes as the same weights in npz (engine layout), and hostile HDF5 files must
// give errors or left-out notes, never a crash or a file read outside the checkpoint.
#include <string>
#include <vector>

#include "../../../fuzz/hdf5_sanitizer_hooks.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"
#include "readers/mapped_file.h"
#include "readers/zip_archive.h"

namespace htsr::readers::testing {
namespace {

std::string Keras(const std::string& name) { return DataPath("readers/keras/" + name); }

std::string AllNotes(const CheckpointReader& r) { return absl::StrJoin(r.Notes(), "\n"); }

// Every tensor of `expected` is in `r` with the same dtype, shape and bytes.
void ExpectSameTensors(const CheckpointReader& r, const CheckpointReader& expected) {
  for (size_t i = 0; i < expected.Tensors().size(); ++i) {
    const TensorInfo& e = expected.Tensors()[i];
    const size_t j = IndexOf(r, e.name);
    ASSERT_NE(j, SIZE_MAX) << e.name;
    EXPECT_EQ(r.Tensors()[j].dtype, e.dtype) << e.name;
    EXPECT_EQ(r.Tensors()[j].shape, e.shape) << e.name;
    EXPECT_EQ(TensorBytes(r, j), TensorBytes(expected, i)) << e.name;
  }
}

std::vector<std::string> Names(const CheckpointReader& r) {
  std::vector<std::string> out;
  for (const TensorInfo& t : r.Tensors()) out.push_back(t.name);
  return out;
}

TEST(KerasReaderTest, RealKerasModelReadsAsTheNpzInEngineLayout) {
  auto keras = OpenCheckpoint(Keras("real.keras"));
  auto npz = OpenCheckpoint(Keras("real.npz"));
  ASSERT_TRUE(keras.ok()) << keras.status();
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_EQ((*keras)->Format(), "keras");
  ExpectSameTensors(**keras, **npz);
  // Layers in config.json order, named after the layers (not the h5 groups conv2d_1, ...);
  // Conv2D (kh, kw, in, out) is handed over as (out, in, kh, kw), Dense as stored (in, out).
  std::vector<std::string> kernels;
  for (const std::string& n : Names(**keras)) {
    if (n.ends_with(".weight")) kernels.push_back(n);
  }
  EXPECT_EQ(kernels, (std::vector<std::string>{"conv2.weight", "conv3.weight", "conv4.weight",
                                               "conv1d_from_conv2.weight", "query.weight",
                                               "dense6_3.weight", "embedding.weight"}));
  const TensorInfo& conv4 = (*keras)->Tensors()[IndexOf(**keras, "conv4.weight")];
  EXPECT_EQ(conv4.shape, (std::vector<int64_t>{128, 64, 2, 2}));
  const TensorInfo& dense = (*keras)->Tensors()[IndexOf(**keras, "dense6_3.weight")];
  EXPECT_EQ(dense.shape, (std::vector<int64_t>{256, 10}));
  // LayerNormalization's gamma/beta are variables, not layers.
  EXPECT_NE(IndexOf(**keras, "norm.vars.0"), SIZE_MAX);
}

TEST(KerasReaderTest, DeflatedMemberAndMissingConfig) {
  auto file = MapFile(Keras("real.keras"));
  ASSERT_TRUE(file.ok());
  auto zip = ZipArchive::Open(*file);
  ASSERT_TRUE(zip.ok()) << zip.status();
  auto member = [&](const std::string& name) {
    auto b = zip->Read(*zip->Find(name));
    EXPECT_TRUE(b.ok());
    return std::string(reinterpret_cast<const char*>(b->bytes.data()), b->bytes.size());
  };
  auto npz = OpenCheckpoint(Keras("real.npz"));
  ASSERT_TRUE(npz.ok());
  {
    ZipWriter z;
    z.Add("metadata.json", member("metadata.json"), true);
    z.Add("config.json", member("config.json"), true);
    z.Add("model.weights.h5", member("model.weights.h5"), /*deflate=*/true);
    auto r = OpenCheckpointFromBuffer("deflated.keras", z.Finish());
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectSameTensors(**r, **npz);
  }
  {
    // Without config.json the h5 groups name the layers (and still give their classes).
    ZipWriter z;
    z.Add("model.weights.h5", member("model.weights.h5"));
    auto r = OpenCheckpointFromBuffer("noconfig.keras", z.Finish());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_HAS(AllNotes(**r), "no config.json");
    const size_t conv = IndexOf(**r, "conv2d_2.weight");  // conv4
    ASSERT_NE(conv, SIZE_MAX);
    EXPECT_EQ(TensorBytes(**r, conv), TensorBytes(**npz, IndexOf(**npz, "conv4.weight")));
    EXPECT_NE(IndexOf(**r, "dense_1.weight"), SIZE_MAX);
  }
}

TEST(KerasReaderTest, BrokenKerasArchivesAreErrors) {
  {
    ZipWriter z;
    z.Add("metadata.json", "{}");
    z.Add("config.json", "{}");
    auto r = OpenCheckpointFromBuffer("m.keras", z.Finish());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.status().message(), "without a model.weights.h5");
  }
  for (const std::string& h5 : {std::string("not hdf5 at all"),
                                std::string("\x89HDF\r\n\x1a\n") + std::string(100, '\x07')}) {
    ZipWriter z;
    z.Add("config.json", "{}");
    z.Add("model.weights.h5", h5);
    auto r = OpenCheckpointFromBuffer("m.keras", z.Finish());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.status().message(), "m.keras: member 'model.weights.h5'");
  }
}

TEST(KerasReaderTest, LegacyH5ReadsAsTheNpz) {
  auto h5 = OpenCheckpoint(Keras("legacy.h5"));
  auto npz = OpenCheckpoint(Keras("real.npz"));
  ASSERT_TRUE(h5.ok()) << h5.status();
  ASSERT_TRUE(npz.ok());
  EXPECT_EQ((*h5)->Format(), "keras-h5");
  EXPECT_EQ(Names(**h5), (std::vector<std::string>{"conv4.weight", "conv4.bias", "dense6_3.weight",
                                                   "dense6_3.bias"}));
  for (const char* name : {"conv4.weight", "conv4.bias", "dense6_3.weight"}) {
    EXPECT_EQ(TensorBytes(**h5, IndexOf(**h5, name)), TensorBytes(**npz, IndexOf(**npz, name)))
        << name;
  }
}

TEST(KerasReaderTest, Keras2WeightsOnlyFile) {
  auto h5 = OpenCheckpoint(Keras("keras2_weights.h5"));
  auto npz = OpenCheckpoint(Keras("keras2_weights.npz"));
  ASSERT_TRUE(h5.ok()) << h5.status();
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_EQ((*h5)->Format(), "keras-h5");
  // layer_names order; f16 kept, big-endian f64 swapped, conv permuted.
  ExpectSameTensors(**h5, **npz);
  EXPECT_EQ(Names(**h5), (std::vector<std::string>{"dense_1.weight", "dense_1.bias", "conv.weight",
                                                   "conv.bias", "emb.weight"}));
  EXPECT_EQ((*h5)->Tensors()[0].dtype, DType::kF16);
  EXPECT_EQ((*h5)->Tensors()[2].dtype, DType::kF64);
  EXPECT_EQ((*h5)->Tensors()[2].shape, (std::vector<int64_t>{16, 4, 3, 3}));
  EXPECT_HAS(AllNotes(**h5), "'counter/counter/count:0' (int32)");
  EXPECT_HAS(AllNotes(**h5), "'optimizer_weights/m:0' (not in a layer listed in layer_names)");
  EXPECT_EQ((*h5)->LeftOut().size(), 2u);

  auto ub = OpenCheckpoint(Keras("keras2_weights_userblock.h5"));
  ASSERT_TRUE(ub.ok()) << ub.status();
  EXPECT_EQ((*ub)->Format(), "hdf5");
  EXPECT_EQ(TensorBytes(**ub, 0), TensorBytes(**npz, IndexOf(**npz, "emb.weight")));
}

TEST(KerasReaderTest, LinksAreNeverFollowedOutsideTheFile) {
  auto r = OpenCheckpoint(Keras("hostile_links.h5"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Names(**r), (std::vector<std::string>{"g.w.weight"}));
  EXPECT_EQ(TensorBytes(**r, 0).size(), 24u * 4);
  const std::string notes = AllNotes(**r);
  EXPECT_HAS(notes, "5 HDF5 links not followed");
  EXPECT_HAS(notes, "external link 'passwd' (into another file) not followed");
  EXPECT_HAS(notes, "soft link 'dangling' not followed");
  EXPECT_HAS(notes, "group 'root_again' was reached before");
  EXPECT_HAS(notes, "soft link 'g/loop' not followed");
  EXPECT_HAS(notes, "group 'g/up' was reached before");
}

TEST(KerasReaderTest, UnreadableDatasetsAreLeftOutWithANote) {
  auto r = OpenCheckpoint(Keras("hostile_data.h5"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Names(**r), (std::vector<std::string>{"ok.weight"}));
  EXPECT_EQ(TensorBytes(**r, 0).size(), 144u * 4);
  EXPECT_EQ((*r)->LeftOut(), (std::vector<std::string>{"empty.weight", "ext.weight", "huge.weight",
                                                       "ints", "pairs", "text"}));
  const std::string notes = AllNotes(**r);
  EXPECT_HAS(notes, "'empty.weight' (no data stored)");
  EXPECT_HAS(notes, "'ext.weight' (raw data in an external file, not read)");
  EXPECT_HAS(notes, "'huge.weight' (shape [4194304, 1048576] declares more than");
}

// Cut at many lengths: an error or a valid reader whose loads are errors or right-sized.
TEST(KerasReaderTest, TruncatedFilesNeverCrash) {
  for (const char* name : {"keras2_weights.h5", "small.keras"}) {
    const std::string bytes = ReadFileOrDie(Keras(name));
    ASSERT_FALSE(bytes.empty()) << name;
    for (size_t len = 0; len < bytes.size(); len += 1 + len / 16) {
      auto r = OpenCheckpointFromBuffer(name, bytes.substr(0, len));
      if (!r.ok()) {
        EXPECT_HAS(r.status().message(), name);
        continue;
      }
      for (size_t i = 0; i < (*r)->Tensors().size(); ++i) {
        auto v = (*r)->Load(i);
        if (v.ok()) {
          EXPECT_EQ(v->bytes.size(),
                    (*r)->Tensors()[i].NumElements().value() * DTypeSize((*r)->Tensors()[i].dtype));
        }
      }
    }
  }
}

TEST(KerasReaderTest, CorruptedBytesNeverCrash) {
  const std::string bytes = ReadFileOrDie(Keras("keras2_weights.h5"));
  for (size_t at = 0; at < bytes.size(); at += 61) {
    std::string b = bytes;
    b[at] = static_cast<char>(b[at] ^ 0x5a);
    auto r = OpenCheckpointFromBuffer("x.h5", b);
    if (!r.ok()) continue;
    for (size_t i = 0; i < (*r)->Tensors().size(); ++i) (void)(*r)->Load(i);
  }
}

}  // namespace
}  // namespace htsr::readers::testing
