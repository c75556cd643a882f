#include "scan/scan_store.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "test_files.h"

namespace htsr::scan {
namespace {

model::ModelReport Report(double alpha) {
  model::ModelReport r;
  r.path = "m.safetensors";
  r.format = "safetensors";
  r.backend = "cpu";
  for (int i = 1; i <= 3; ++i) {
    LayerResult l;
    l.plan.layer_id = i;
    l.plan.name = absl::StrCat("layer", i);
    l.plan.M = 10 * i;
    l.plan.N = 20 * i;
    l.plan.num_evals = 10 * i;
    l.plan.rf = 1;
    l.plan.analyse = true;
    l.alpha = alpha + i;
    l.mp_softrank = 0.25 * i;  // an optional column
    r.layers.push_back(l);
  }
  r.summary = Summarize(r.layers);
  return r;
}

CheckpointRecord Ok(const std::string& path, const std::string& hash,
                    const model::ModelReport* report) {
  CheckpointRecord rec;
  rec.item = {path, {{"model", "resnet"}, {"accuracy", "0.7"}}};
  rec.content_hash = hash;
  rec.options_key = "opts";
  rec.ok = true;
  rec.report = report;
  return rec;
}

TEST(ScanStoreTest, RecordsCheckpointLayersAndExtras) {
  testing::TempDir d;
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  ASSERT_TRUE(store.ok()) << store.status();
  const model::ModelReport report = Report(2.0);
  ASSERT_TRUE((*store)->Record(Ok("a.pt", "h1", &report)).ok());

  auto layers =
      (*store)->Query("SELECT layer_id, name, alpha, mp_softrank, M FROM layers ORDER BY layer_id");
  ASSERT_TRUE(layers.ok()) << layers.status();
  ASSERT_EQ(layers->rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(layers->rows[2][0]), 3);
  EXPECT_EQ(std::get<std::string>(layers->rows[2][1]), "layer3");
  EXPECT_EQ(std::get<double>(layers->rows[2][2]), 5.0);
  EXPECT_EQ(std::get<double>(layers->rows[2][3]), 0.75);
  EXPECT_EQ(std::get<int64_t>(layers->rows[2][4]), 30);

  auto cp = (*store)->Query("SELECT status, alpha, num_analyzed, content_hash FROM checkpoints");
  ASSERT_EQ(cp->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(cp->rows[0][0]), "ok");
  EXPECT_DOUBLE_EQ(std::get<double>(cp->rows[0][1]), (3.0 + 4.0 + 5.0) / 3);
  EXPECT_EQ(std::get<int64_t>(cp->rows[0][2]), 3);
  auto ex = (*store)->Query("SELECT key, value FROM checkpoint_extras ORDER BY ord");
  ASSERT_EQ(ex->rows.size(), 2u);
  EXPECT_EQ(std::get<std::string>(ex->rows[1][0]), "accuracy");
  EXPECT_EQ(std::get<std::string>(ex->rows[1][1]), "0.7");
}

TEST(ScanStoreTest, DoneOnlyForSameHashOptionsAndOkStatus) {
  testing::TempDir d;
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  ASSERT_TRUE(store.ok());
  const model::ModelReport report = Report(2.0);
  ASSERT_TRUE((*store)->Record(Ok("a.pt", "h1", &report)).ok());
  EXPECT_TRUE(*(*store)->IsDone("a.pt", "h1", "opts"));
  EXPECT_FALSE(*(*store)->IsDone("a.pt", "h2", "opts"));
  EXPECT_FALSE(*(*store)->IsDone("a.pt", "h1", "other"));
  EXPECT_FALSE(*(*store)->IsDone("b.pt", "h1", "opts"));

  CheckpointRecord failed;
  failed.item = {"b.pt", {}};
  failed.content_hash = "h3";
  failed.options_key = "opts";
  failed.error = "b.pt: not a checkpoint";
  ASSERT_TRUE((*store)->Record(failed).ok());
  EXPECT_FALSE(*(*store)->IsDone("b.pt", "h3", "opts"));
}

TEST(ScanStoreTest, RecordReplacesThePreviousAttempt) {
  testing::TempDir d;
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  const model::ModelReport first = Report(2.0), second = Report(10.0);
  ASSERT_TRUE((*store)->Record(Ok("a.pt", "h1", &first)).ok());
  ASSERT_TRUE((*store)->Record(Ok("a.pt", "h2", &second)).ok());
  auto n = (*store)->Query(
      "SELECT (SELECT count(*) FROM checkpoints), (SELECT count(*) FROM layers), "
      "(SELECT count(*) FROM checkpoint_extras), (SELECT max(alpha) FROM layers)");
  EXPECT_EQ(std::get<int64_t>(n->rows[0][0]), 1);
  EXPECT_EQ(std::get<int64_t>(n->rows[0][1]), 3);
  EXPECT_EQ(std::get<int64_t>(n->rows[0][2]), 2);
  EXPECT_EQ(std::get<double>(n->rows[0][3]), 13.0);
}

TEST(ScanStoreTest, ReopenKeepsRowsAndReadOnlyRefusesOtherFiles) {
  testing::TempDir d;
  const model::ModelReport report = Report(2.0);
  {
    auto store = ScanStore::Open(d.Path("s.sqlite"));
    ASSERT_TRUE((*store)->Record(Ok("a.pt", "h1", &report)).ok());
  }
  auto ro = ScanStore::OpenReadOnly(d.Path("s.sqlite"));
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_TRUE(*(*ro)->IsDone("a.pt", "h1", "opts"));
  d.Write("other.sqlite", "");
  EXPECT_FALSE(ScanStore::OpenReadOnly(d.Path("other.sqlite")).ok());
  EXPECT_FALSE(ScanStore::OpenReadOnly(d.Path("missing.sqlite")).ok());
}

TEST(ScanStoreTest, LayerColumnsAreTheWritersColumns) {
  // Every per-layer writer column is a column of the table, in the same order.
  EXPECT_EQ(LayerColumnNames().front(), "layer_id");
  EXPECT_EQ(LayerColumnNames()[1], "name");
  EXPECT_NE(std::find(SummaryColumnNames().begin(), SummaryColumnNames().end(), "mp_softrank"),
            SummaryColumnNames().end());
}

}  // namespace
}  // namespace htsr::scan
