// Readers of the inputs users bring: CSV, Python summary dicts, htsr's own outputs,
// weightwatcher CSVs and accuracy lists. Hostile input yields errors naming the place.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "results/accuracy_file.h"
#include "results/csv_table.h"
#include "results/python_dict.h"
#include "results/results_file.h"

namespace htsr::trends {
namespace {

TEST(CsvTableTest, QuotesCrLfAndBlankLines) {
  auto t = results::ParseCsv("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\r\n2,3\n", "t.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][0], "x,1");
  EXPECT_EQ(t->rows[0][1], "say \"hi\"");
  EXPECT_EQ(t->row_lines[1], 4);
  EXPECT_EQ(t->Column("b"), 1);
}

TEST(CsvTableTest, RaggedAndBrokenRowsAreErrorsWithLines) {
  auto ragged = results::ParseCsv("a,b\n1,2\n3\n", "r.csv");
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("r.csv: line 3"), std::string::npos) << ragged.status();
  EXPECT_FALSE(results::ParseCsv("a,b\n\"open,2\n", "q.csv").ok());
  EXPECT_FALSE(results::ParseCsv("", "e.csv").ok());
  EXPECT_FALSE(results::ParseCsv("a\nx\"y\n", "m.csv").ok());
}

TEST(ParseNumberTest, PandasSpellings) {
  EXPECT_EQ(*results::ParseNumber(" 2.5 "), 2.5);
  EXPECT_TRUE(std::isinf(*results::ParseNumber("-inf")));
  EXPECT_TRUE(std::isnan(*results::ParseNumber("nan")));
  EXPECT_EQ(*results::ParseNumber("True"), 1.0);
  EXPECT_FALSE(results::ParseNumber("").has_value());
  EXPECT_FALSE(results::ParseNumber("1.5x").has_value());
}

TEST(PythonDictTest, ReprOfSummaries) {
  auto d = results::ParsePythonDictNumbers(
      "{'alpha': 2.5, 'n': 3, 'x': -1e-3, 'ok': True, 'none': None, 's': 'text', "
      "'f': np.float64(1.25), 'bad': nan, 'big': -inf,}",
      "s.txt");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 7u);
  EXPECT_EQ((*d)[0], (std::pair<std::string, double>("alpha", 2.5)));
  EXPECT_EQ((*d)[2].second, -1e-3);
  EXPECT_EQ((*d)[3].second, 1.0);
  EXPECT_EQ((*d)[4], (std::pair<std::string, double>("f", 1.25)));
  EXPECT_TRUE(std::isnan((*d)[5].second));
  EXPECT_EQ((*d)[6].second, -INFINITY);
}

TEST(PythonDictTest, RefusesCodeAndGarbage) {
  for (const char* bad : {"{'a': __import__('os')}", "{'a': 1", "{'a' 1}", "[1, 2]",
                          "{'a': 1} extra", "{'a': [1, 2]}", "{'a': f(f(f(f(f(f(1))))))}"}) {
    auto d = results::ParsePythonDictNumbers(bad, "bad.txt");
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("bad.txt: offset"), std::string::npos);
    }
  }
}

TEST(ResultsFileTest, HtsrJson) {
  const char* json = R"({"htsr_version": "0.1.0", "models": [
    {"path": "/m/a.safetensors", "format": "safetensors", "backend": "cpu", "bytes": 1, "seconds": 0.1,
     "summary": {"log_norm": 1.5, "alpha": 3.0, "num_layers": 2},
     "layers": [
      {"layer_id": 1, "name": "fc1", "layer_type": "dense", "N": 20, "M": 10, "alpha": 2.0,
       "alpha_weighted": 1.0, "log_norm": 1.0, "log_spectral_norm": 0.5, "status": "success", "reason": ""},
      {"layer_id": 2, "name": "fc2", "layer_type": "dense", "N": 20, "M": 10, "alpha": 7.0,
       "alpha_weighted": 3.0, "log_norm": 2.0, "log_spectral_norm": 0.4, "status": "success",
       "num_traps": 2, "reason": ""},
      {"layer_id": 3, "name": "emb", "layer_type": "dense", "N": 99999, "M": 10, "alpha": null,
       "status": "skipped", "reason": "too big"}]}]})";
  auto r = results::ParseResults(json, "out.json");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  const model::ModelRecord& m = r->front();
  EXPECT_EQ(m.name, "a");
  EXPECT_EQ(m.kind, "htsr-json");
  ASSERT_EQ(m.report.layers.size(), 3u);
  EXPECT_EQ(m.report.layers[1].warning, LayerWarning::kUnderTrained);
  EXPECT_EQ(*m.report.layers[1].num_traps, 2);
  EXPECT_EQ(m.report.layers[2].status, LayerStatus::kSkipped);
  // The file's summary wins for the metrics it has; the rest come from the layers.
  EXPECT_EQ(*m.Metric("log_norm"), 1.5);
  EXPECT_DOUBLE_EQ(*m.Metric("alpha_weighted"), 2.0);
  EXPECT_DOUBLE_EQ(*m.Metric("logspectralnorm"), 0.45);
  EXPECT_EQ(m.report.summary.num_skipped, 1);
}

TEST(ResultsFileTest, HtsrMultiModelCsvAndWeightwatcherCsv) {
  auto r = results::ParseResults(
      "model,layer_id,name,alpha,alpha_weighted,log_norm,log_spectral_norm,log_alpha_norm,status\n"
      "x/a.npz,1,l1,3,1,1,1,1,success\nx/b.npz,1,l1,5,2,2,2,2,success\nx/"
      "b.npz,2,l2,1.5,0,0,0,0,success\n",
      "m.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].name, "b");
  EXPECT_DOUBLE_EQ(*(*r)[1].Metric("alpha"), 3.25);
  EXPECT_EQ((*r)[1].report.summary.num_over_trained, 1);

  // weightwatcher 0.2.x: LEVEL.LAYER rows are means of the slices and are not layers.
  auto ww = results::ParseResults(
      "layer_id,layer_type,N,M,level,alpha,alpha_weighted,log_norm,log_spectral_norm,log_alpha_"
      "norm\n"
      "5,CONV2D,128,64,LEVEL.SLICE,2,1,1,1,1\n5,CONV2D,128,64,LEVEL.SLICE,4,1,1,1,1\n"
      "5,CONV2D,128,64,LEVEL.LAYER,3,1,1,1,1\n7,DENSE,100,50,LEVEL.SLICE,-1,1,1,1,1\n",
      "ww.csv");
  ASSERT_TRUE(ww.ok()) << ww.status();
  const model::ModelRecord& w = ww->front();
  EXPECT_EQ(w.kind, "ww-csv");
  ASSERT_EQ(w.report.layers.size(), 3u);
  EXPECT_EQ(w.report.layers[0].plan.type, LayerType::kConv2d);
  EXPECT_EQ(w.report.layers[2].status, LayerStatus::kFailed);  // alpha = -1
  EXPECT_DOUBLE_EQ(*w.Metric("alpha"), 3.0);
}

TEST(ResultsFileTest, BadCellsNameFileAndLine) {
  auto r = results::ParseResults("layer_id,alpha\n1,2\n2,abc\n", "bad.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.csv: line 3"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("alpha"), std::string::npos);
  EXPECT_FALSE(results::ParseResults("foo,bar\n1,2\n", "what.csv").ok());
  EXPECT_FALSE(results::ParseResults("{\"models\": 3}", "m.json").ok());
  EXPECT_FALSE(results::ParseResults("layer_id,alpha\n1e300,2\n", "id.csv").ok());
}

TEST(AccuracyFileTest, ColumnsSeriesAndHeaderless) {
  const char* text = "series,model,top1_err,top5_err\nA,m1,30,10\nA,m2,25,\nB,m1,40,12\n";
  auto all = results::ParseAccuracies(text, "acc.csv", {});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->column, "top1_err");
  EXPECT_TRUE(all->is_error);
  std::vector<model::ModelRecord> recs(2);
  recs[0].name = "m1";
  recs[1].name = "m2";
  // m1 is in two series: it is analysed in each (a copy per series), m2 in A.
  auto missing = results::AttachTargets(*all, recs);
  EXPECT_TRUE(missing.empty());
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].name, "m1");
  EXPECT_EQ(recs[0].series, "A");
  EXPECT_EQ(*recs[0].target, 30);
  EXPECT_EQ(recs[1].name, "m1");
  EXPECT_EQ(recs[1].series, "B");
  EXPECT_EQ(*recs[1].target, 40);
  EXPECT_EQ(*recs[2].target, 25);
  EXPECT_EQ(recs[2].series, "A");

  // Two inputs share the stem m1; the zoo column names the directory of one of them.
  const char* zoo = "series,model,top1_err,zoo\nA,m1,30,tv\nB,m1,40,cv\nC,m1,41,cv\n";
  auto zt = results::ParseAccuracies(zoo, "zoo.csv", {});
  ASSERT_TRUE(zt.ok()) << zt.status();
  std::vector<model::ModelRecord> two(2);
  two[0].name = two[1].name = "m1";
  two[0].source = "data/tv/m1.csv";
  two[1].source = "data/other/m1.csv";
  EXPECT_TRUE(results::AttachTargets(*zt, two).empty());
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(two[0].source, "data/tv/m1.csv");
  EXPECT_EQ(two[0].series, "A");
  EXPECT_EQ(two[1].source, "data/other/m1.csv");
  EXPECT_EQ(two[1].series, "B");
  EXPECT_EQ(two[2].series, "C");

  results::AccuracyOptions b;
  b.series = "B";
  auto only_b = results::ParseAccuracies(text, "acc.csv", b);
  ASSERT_TRUE(only_b.ok());
  ASSERT_EQ(only_b->entries.size(), 1u);
  EXPECT_EQ(only_b->entries[0].value, 40);

  auto bare = results::ParseAccuracies("m1,0.75\nm2,0.8\n", "bare.csv", {});
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_FALSE(bare->is_error);
  EXPECT_EQ(bare->entries.size(), 2u);

  EXPECT_FALSE(results::ParseAccuracies("model,acc\nm1,high\n", "x.csv", {}).ok());
  EXPECT_FALSE(results::ParseAccuracies("model,foo,bar\nm1,1,2\n", "x.csv", {}).ok());
}

}  // namespace
}  // namespace htsr::trends
