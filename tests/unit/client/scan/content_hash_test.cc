#include "scan/content_hash.h"

#include <gtest/gtest.h>

#include "scan/sha256.h"
#include "test_files.h"

namespace htsr::scan {
namespace {

TEST(ContentHashTest, FileIsSha256OfItsBytes) {
  testing::TempDir dir;
  const std::string path = dir.Write("m.safetensors", "abc");
  auto h = HashCheckpoint(path);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(h->bytes, 3u);
}

TEST(ContentHashTest, DirectoryChangesWithAnyShardNameOrByte) {
  testing::TempDir dir;
  dir.Write("ckpt/model.safetensors.index.json", "{}");
  dir.Write("ckpt/model-00001-of-00002.safetensors", "shard one");
  dir.Write("ckpt/model-00002-of-00002.safetensors", "shard two");
  dir.Write("ckpt/.git/HEAD", "ignored: VCS metadata");
  auto a = HashCheckpoint(dir.Path("ckpt"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->bytes, 2u + 9u + 9u);
  // Same bytes again: same hash.
  EXPECT_EQ(HashCheckpoint(dir.Path("ckpt"))->sha256, a->sha256);
  // Hidden files do not count.
  dir.Write("ckpt/.git/HEAD", "changed");
  EXPECT_EQ(HashCheckpoint(dir.Path("ckpt"))->sha256, a->sha256);
  // One byte of one shard.
  dir.Write("ckpt/model-00002-of-00002.safetensors", "shard twO");
  auto b = HashCheckpoint(dir.Path("ckpt"));
  EXPECT_NE(b->sha256, a->sha256);
  // Moving bytes between files keeps the concatenation but not the hash.
  dir.Write("ckpt/model-00001-of-00002.safetensors", "shard ones");
  dir.Write("ckpt/model-00002-of-00002.safetensors", "hard two");
  EXPECT_NE(HashCheckpoint(dir.Path("ckpt"))->sha256, a->sha256);
}

TEST(ContentHashTest, MissingPathNamesIt) {
  auto h = HashCheckpoint("/nonexistent/htsr/model.pt");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("/nonexistent/htsr/model.pt"), std::string::npos);
}

}  // namespace
}  // namespace htsr::scan
