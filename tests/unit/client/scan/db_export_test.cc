#include "scan/db_export.h"

#include <sstream>
#include <string_view>

#include <gtest/gtest.h>

#include "test_files.h"

namespace htsr::scan {
namespace {

TEST(DbExportTest, CsvQuotesAndPrefixesExtrasThatShadowColumns) {
  testing::TempDir d;
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  ASSERT_TRUE(store.ok());
  CheckpointRecord rec;
  rec.item.path = "a,b.pt";
  rec.item.extra.emplace_back("status", "shadow");
  rec.item.extra.emplace_back("note", "say \"hi\"");
  rec.content_hash = "h";
  rec.error = "line one\nline two";
  ASSERT_TRUE((*store)->Record(rec).ok());
  std::ostringstream out;
  ASSERT_TRUE(ExportCsv(**store, "checkpoints", out).ok());
  const std::string csv = out.str();
  const std::string_view header = std::string_view(csv).substr(0, csv.find('\n'));
  EXPECT_TRUE(header.starts_with("path,content_hash,status,")) << header;
  EXPECT_TRUE(header.ends_with(",extra.status,note")) << header;
  EXPECT_NE(csv.find("\"a,b.pt\",h,failed,\"line one\nline two\""), std::string::npos) << csv;
  EXPECT_NE(csv.find(",shadow,\"say \"\"hi\"\"\""), std::string::npos) << csv;
  std::ostringstream bad;
  EXPECT_FALSE(ExportCsv(**store, "nope", bad).ok());
}

TEST(DbExportTest, JsonHasNullSummaryForFailedCheckpoints) {
  testing::TempDir d;
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  CheckpointRecord rec;
  rec.item.path = "x.pt";
  rec.item.extra.emplace_back("model", "m");
  rec.error = "broken";
  ASSERT_TRUE((*store)->Record(rec).ok());
  std::ostringstream out;
  ASSERT_TRUE(ExportJson(**store, out).ok());
  const std::string json = out.str();
  EXPECT_NE(json.find("\"path\": \"x.pt\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"error\": \"broken\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"extra\": {\"model\": \"m\"}, \"summary\": null, \"layers\": []"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace htsr::scan
