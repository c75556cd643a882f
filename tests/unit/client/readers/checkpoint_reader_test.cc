// Format dispatch, directories and sharded Hugging Face checkpoints.
#include "readers/checkpoint_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "reader_test_util.h"

namespace htsr::readers::testing {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "htsr_readers_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CheckpointReaderTest, DispatchesOnMagicNotExtension) {
  TempDir dir;
  const std::string st =
      Safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", FloatBytes({1}));
  auto r = OpenCheckpoint(dir.Write("weights.npy", st));  // misleading extension
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Format(), "safetensors");
  EXPECT_EQ((*r)->Path(), dir.path() + "/weights.npy");
  auto u = OpenCheckpoint(dir.Write("junk.bin", "hello world, not a checkpoint"));
  ASSERT_FALSE(u.ok());
  EXPECT_HAS(u.status().message(), "unrecognized checkpoint format");
  EXPECT_FALSE(OpenCheckpoint(dir.Write("empty", "")).ok());
  auto missing = OpenCheckpoint(dir.path() + "/nope.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_HAS(missing.status().message(), "nope.safetensors");
  EXPECT_FALSE(OpenCheckpoint(dir.path()).ok());   // a directory without known files
  EXPECT_FALSE(OpenCheckpoint("/dev/null").ok());  // not a regular file
}

// Found on a GPU run: torchvision ResNet-50 saved with safetensors had a header of 0x...80
// bytes, whose first byte (0x80) is also pickle's PROTO opcode.
TEST(CheckpointReaderTest, SafetensorsHeaderLengthEndingIn0x80IsNotAPickle) {
  TempDir dir;
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.resize(0x180, ' ');  // JSON allows trailing spaces; length 384 = 0x0180
  const std::string st = Safetensors(header, FloatBytes({1}));
  ASSERT_EQ(static_cast<uint8_t>(st[0]), 0x80);
  auto r = OpenCheckpoint(dir.Write("model.safetensors", st));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Format(), "safetensors");
  ASSERT_EQ((*r)->Tensors().size(), 1u);
}

TEST(CheckpointReaderTest, DirectoryWithASingleFile) {
  TempDir dir;
  dir.Write(
      "model.safetensors",
      Safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", FloatBytes({1, 2})));
  auto r = OpenCheckpoint(dir.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TensorBytes(**r, 0), FloatBytes({1, 2}));
}

TEST(CheckpointReaderTest, ShardedDirectoriesMatchTheSingleFile) {
  auto single = OpenCheckpoint(DataPath("readers/views.npz"));
  ASSERT_TRUE(single.ok()) << single.status();
  for (const char* sub : {"readers/sharded_safetensors", "readers/sharded_pytorch"}) {
    auto r = OpenCheckpoint(DataPath(sub));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_HAS((*r)->Format(), "sharded");
    ASSERT_EQ((*r)->Tensors().size(), (*single)->Tensors().size()) << sub;
    for (size_t i = 0; i < (*r)->Tensors().size(); ++i) {
      // Shards are split in the original order and the index keeps it.
      EXPECT_EQ((*r)->Tensors()[i].name, (*single)->Tensors()[i].name) << sub;
      EXPECT_EQ(TensorBytes(**r, i), TensorBytes(**single, i)) << sub;
    }
  }
}

TEST(CheckpointReaderTest, HostileIndexes) {
  TempDir dir;
  const std::string shard =
      Safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", FloatBytes({1}));
  dir.Write("s1.safetensors", shard);
  auto open_index = [&](const std::string& json) {
    return OpenCheckpoint(dir.Write("model.safetensors.index.json", json)).status();
  };
  EXPECT_HAS(open_index(R"({"weight_map":{"w":"../../etc/passwd"}})").message(), "not a file name");
  EXPECT_HAS(open_index(R"({"weight_map":{"x":"s1.safetensors"}})").message(), "does not contain");
  EXPECT_FALSE(open_index(R"({"weight_map":{"w":"missing.safetensors"}})").ok());
  EXPECT_FALSE(open_index(R"({"no_map":{}})").ok());
  EXPECT_FALSE(open_index(R"({"weight_map":{"w":"model.safetensors.index.json"}})").ok());
  EXPECT_TRUE(open_index(R"({"weight_map":{"w":"s1.safetensors"}})").ok());
  // The directory form prefers the safetensors index.
  auto r = OpenCheckpoint(dir.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Format(), "sharded safetensors");
  // Buffers never follow an index to the filesystem.
  EXPECT_FALSE(
      OpenCheckpointFromBuffer("idx.json", R"({"weight_map":{"w":"s1.safetensors"}})").ok());
}

// A quantised Hugging Face checkpoint: the index lists every tensor, including those the
// shard leaves out (U32 codes, F8_E8M0 scales). The float layers are read, the rest is
// named in the shard's note, and the index is not taken for a broken one.
TEST(CheckpointReaderTest, ShardIndexListingLeftOutTensors) {
  TempDir dir;
  dir.Write("s1.safetensors",
            Safetensors(R"({"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("a.qweight":{"dtype":"U32","shape":[2],"data_offsets":[8,16]}})",
                        FloatBytes({1, 2}) + std::string(8, '\0')));
  dir.Write("s2.safetensors",
            Safetensors(R"({"b.scales":{"dtype":"F8_E8M0","shape":[4],"data_offsets":[0,4]},)"
                        R"("b.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        std::string(4, '\x7f') + FloatBytes({3})));
  auto r = OpenCheckpoint(
      dir.Write("model.safetensors.index.json",
                R"({"weight_map":{"a.weight":"s1.safetensors","a.qweight":"s1.safetensors",)"
                R"("b.scales":"s2.safetensors","b.weight":"s2.safetensors"}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->Tensors().size(), 2u);
  EXPECT_EQ((*r)->Tensors()[0].name, "a.weight");
  EXPECT_EQ((*r)->Tensors()[1].name, "b.weight");
  EXPECT_EQ((*r)->Notes().size(), 2u);
  EXPECT_EQ((*r)->LeftOut(), (std::vector<std::string>{"a.qweight", "b.scales"}));
  // A tensor no shard has, left out or not, is still an error.
  auto bad = OpenCheckpoint(
      dir.Write("model.safetensors.index.json",
                R"({"weight_map":{"a.weight":"s1.safetensors","ghost":"s1.safetensors"}})"));
  EXPECT_HAS(bad.status().message(), "does not contain");
}

TEST(CheckpointReaderTest, EveryFixtureOpensAndLoads) {
  for (const char* f :
       {"synthetic/fixtures/mixed.safetensors", "synthetic/fixtures/degenerate.safetensors",
        "synthetic/fixtures/named_arrays.npz", "synthetic/fixtures/single.npy",
        "synthetic/fixtures/single_npy_as.npz", "synthetic/fixtures/state_dict.pt",
        "synthetic/fixtures/nested_state_dict.pt"}) {
    auto r = OpenCheckpoint(DataPath(f));
    ASSERT_TRUE(r.ok()) << f << ": " << r.status();
    uint64_t total = 0;
    for (size_t i = 0; i < (*r)->Tensors().size(); ++i) {
      auto v = (*r)->Load(i);
      ASSERT_TRUE(v.ok()) << f << ": " << v.status();
      EXPECT_EQ(v->info.name, (*r)->Tensors()[i].name);
      total += v->bytes.size();
    }
    EXPECT_EQ(total, (*r)->TotalBytes()) << f;
  }
}

}  // namespace
}  // namespace htsr::readers::testing
