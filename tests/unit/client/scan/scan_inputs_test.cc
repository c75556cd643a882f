#include "scan/scan_inputs.h"

#include <gtest/gtest.h>

#include "test_files.h"

namespace htsr::scan {
namespace {

std::vector<std::string> Paths(const std::vector<ScanItem>& items) {
  std::vector<std::string> out;
  for (const ScanItem& i : items) out.push_back(i.path);
  return out;
}

TEST(ScanInputsTest, DirectoryWalkFindsFilesAndCheckpointDirectories) {
  testing::TempDir d;
  d.Write("runs/e1.safetensors", "x");
  d.Write("runs/e2.pt", "x");
  d.Write("runs/notes.txt", "not a checkpoint");
  d.Write("runs/hf/model.safetensors.index.json", "{}");
  d.Write("runs/hf/model-00001-of-00002.safetensors", "x");
  d.Write("runs/deep/er/e3.npz", "x");
  d.Write("runs/.cache/e4.pt", "hidden");
  auto items = ExpandInputs({d.Path("runs")});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(Paths(*items),
            (std::vector<std::string>{d.Path("runs/deep/er/e3.npz"), d.Path("runs/e1.safetensors"),
                                      d.Path("runs/e2.pt"), d.Path("runs/hf")}));
}

TEST(ScanInputsTest, CheckpointDirectoryIsOneItem) {
  testing::TempDir d;
  d.Write("hf/model.safetensors", "x");
  d.Write("hf/extra.safetensors", "x");
  auto items = ExpandInputs({d.Path("hf")});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(Paths(*items), (std::vector<std::string>{d.Path("hf")}));
}

TEST(ScanInputsTest, GlobsAreSortedAndDeduplicated) {
  testing::TempDir d;
  d.Write("b.pt", "x");
  d.Write("a.pt", "x");
  d.Write("c.npz", "x");
  auto items = ExpandInputs({d.Path("*.pt"), d.Path("a.pt"), d.Path("?.npz")});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(Paths(*items),
            (std::vector<std::string>{d.Path("a.pt"), d.Path("b.pt"), d.Path("c.npz")}));
}

TEST(ScanInputsTest, NothingMatchingIsAnError) {
  testing::TempDir d;
  d.Write("empty/readme.md", "x");
  EXPECT_FALSE(ExpandInputs({d.Path("*.safetensors")}).ok());
  EXPECT_FALSE(ExpandInputs({d.Path("missing.pt")}).ok());
  EXPECT_FALSE(ExpandInputs({d.Path("empty")}).ok());
}

TEST(ScanInputsTest, MergeKeepsFirstOccurrenceAndItsExtras) {
  std::vector<ScanItem> a = {{"x.pt", {{"model", "m"}}}, {"y.pt", {}}};
  std::vector<ScanItem> b = {{"y.pt", {}}, {"x.pt", {}}, {"z.pt", {}}};
  auto merged = MergeItems(a, b);
  EXPECT_EQ(Paths(merged), (std::vector<std::string>{"x.pt", "y.pt", "z.pt"}));
  EXPECT_EQ(merged[0].extra.size(), 1u);
}

}  // namespace
}  // namespace htsr::scan
