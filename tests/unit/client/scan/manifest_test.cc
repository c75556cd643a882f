#include "scan/manifest.h"

#include <gtest/gtest.h>

namespace htsr::scan {
namespace {

using Extra = std::vector<std::pair<std::string, std::string>>;

TEST(ManifestTest, HeaderNamesExtraColumnsAndPathsAreRelativeToTheManifest) {
  const std::string text =
      "# epochs of run 7\n"
      "path\tmodel\taccuracy\n"
      "e1.safetensors\tresnet\t0.61\n"
      "\n"
      "/abs/e2.safetensors\tresnet\t0.68\n";
  auto items = ParseManifest(text, "/data/runs/manifest.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].path, "/data/runs/e1.safetensors");
  EXPECT_EQ((*items)[0].extra, (Extra{{"model", "resnet"}, {"accuracy", "0.61"}}));
  EXPECT_EQ((*items)[1].path, "/abs/e2.safetensors");
}

TEST(ManifestTest, CommaAndSpaceSeparatedWithoutHeader) {
  auto items = ParseManifest("a.pt,x,1\nsub/b.pt  y\nc.pt\n", "m.csv");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].path, "a.pt");
  EXPECT_EQ((*items)[0].extra, (Extra{{"col2", "x"}, {"col3", "1"}}));
  EXPECT_EQ((*items)[1].path, "sub/b.pt");
  EXPECT_EQ((*items)[1].extra, (Extra{{"col2", "y"}}));
  EXPECT_TRUE((*items)[2].extra.empty());
}

TEST(ManifestTest, TooManyFieldsForTheHeaderNamesTheLine) {
  auto items = ParseManifest("path,model\na.pt,x\nb.pt,y,z\n", "m.csv");
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.status().message().find("m.csv:3"), std::string::npos) << items.status();
}

TEST(ManifestTest, EmptyPathFieldIsAnError) {
  EXPECT_FALSE(ParseManifest(",model\n", "m.csv").ok());
}

TEST(ManifestTest, MissingFileIsAnError) {
  EXPECT_FALSE(ReadManifest("/nonexistent/manifest.tsv").ok());
}

}  // namespace
}  // namespace htsr::scan
