// `htsr scan` databases as trend inputs: written with the scan store itself, read back as
// records with their summaries, layers and manifest extras (name, series, accuracy).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "results/results_file.h"
#include "results/scan_db_reader.h"
#include "scan/scan_store.h"
#include "trends/trend_inputs.h"

namespace htsr::trends {
namespace {

model::ModelReport Report(double alpha0) {
  model::ModelReport r;
  r.format = "safetensors";
  r.backend = "cpu";
  for (int i = 1; i <= 3; ++i) {
    LayerResult l;
    l.plan.layer_id = i;
    l.plan.name = absl::StrCat("fc", i);
    l.plan.tensor_name = l.plan.name + ".weight";
    l.plan.N = 20;
    l.plan.M = 10;
    l.plan.num_evals = 10;
    l.alpha = alpha0 + i;
    l.alpha_weighted = 0.5 * l.alpha;
    l.log_norm = 1.0 / i;
    l.log_spectral_norm = 0.25 * i;
    r.layers.push_back(l);
  }
  r.summary = Summarize(r.layers);
  return r;
}

TEST(ScanDbTest, RecordsWithExtrasAndLayers) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            absl::StrCat("htsr_trends_scan_", ::getpid(), ".sqlite"))
                               .string();
  std::filesystem::remove(path);
  {
    auto store = scan::ScanStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<model::ModelReport> reports = {Report(1), Report(2), Report(3)};
    for (int i = 0; i < 3; ++i) {
      scan::CheckpointRecord rec;
      rec.item.path = absl::StrCat("/runs/e", i, ".safetensors");
      rec.item.extra = {{"model", absl::StrCat("epoch", i)},
                        {"series", "run"},
                        {"accuracy", absl::StrCat(0.5 + 0.1 * i)}};
      rec.content_hash = absl::StrCat("h", i);
      rec.ok = true;
      rec.report = &reports[i];
      ASSERT_TRUE((*store)->Record(rec).ok());
    }
    scan::CheckpointRecord bad;
    bad.item.path = "/runs/broken.pt";
    bad.ok = false;
    bad.error = "truncated";
    ASSERT_TRUE((*store)->Record(bad).ok());
  }
  ASSERT_TRUE(results::IsSqliteFile(path));
  auto recs = results::ReadResultsFile(path);
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 3u);  // the failed checkpoint is not a model to compare
  const model::ModelRecord& r = (*recs)[2];
  EXPECT_EQ(r.name, "epoch2");
  EXPECT_EQ(r.series, "run");
  EXPECT_EQ(r.kind, "scan-db");
  ASSERT_EQ(r.report.layers.size(), 3u);
  EXPECT_EQ(r.report.layers[1].plan.name, "fc2");
  EXPECT_DOUBLE_EQ(*r.Metric("alpha"), 5.0);
  EXPECT_DOUBLE_EQ(*r.Metric("accuracy"), 0.7);

  // The manifest's accuracy column is the target without being named.
  std::vector<model::ModelRecord> records = *recs;
  TrendOptions opt;
  std::vector<std::string> notes;
  ASSERT_TRUE(AttachTargetsFromSpec({}, records, opt, notes).ok());
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(opt.target_name, "accuracy");
  EXPECT_FALSE(opt.target_is_error);
  ASSERT_TRUE(records[0].target.has_value());
  EXPECT_DOUBLE_EQ(*records[0].target, 0.5);
  const auto trends = AnalyzeTrends(records, opt);
  ASSERT_EQ(trends.size(), 1u);
  EXPECT_EQ(trends[0].series, "run");
  // alpha rises by 1 per epoch and accuracy by 0.1: an exact line.
  const MetricTrend& alpha = trends[0].metrics.back();
  ASSERT_EQ(alpha.metric, "alpha");
  ASSERT_TRUE(alpha.fit.has_value());
  EXPECT_NEAR(alpha.fit->slope, 0.1, 1e-12);
  EXPECT_NEAR(alpha.fit->r2, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(alpha.kendall_tau, 1.0);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

TEST(ScanDbTest, NotADatabase) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            absl::StrCat("htsr_trends_notdb_", ::getpid(), ".db"))
                               .string();
  { std::ofstream(path) << "SQLite format 3" << std::string(1, '\0') << "garbage garbage garbage"; }
  EXPECT_FALSE(results::ReadResultsFile(path).ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace htsr::trends
