#include "output/csv_writer.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr::output {
namespace {

LayerResult Row(int id, const std::string& name, double alpha) {
  LayerResult r;
  r.plan.layer_id = id;
  r.plan.name = name;
  r.plan.tensor_name = name + ".weight";
  r.alpha = alpha;
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A tensor name is text from the checkpoint: one that a spreadsheet would run as a formula
// is written with a leading quote (OWASP's CSV injection rule); numbers stay numbers.
TEST(CsvWriterTest, TextCellsThatLookLikeFormulasAreQuoted) {
  model::ModelReport m;
  m.path = "m.safetensors";
  m.layers = {Row(0, "=HYPERLINK(\"http://evil\",\"x\")", -1.5),
              Row(1, "@SUM(A1)", 2.5),
              Row(2, "+cmd", 3),
              Row(3, "-x", 3),
              Row(4, "\tlead", 3),
              Row(5, "plain.name", 3)};
  std::ostringstream out;
  WriteCsv({m}, out);
  const std::string csv = out.str();
  // The formula cell is prefixed, then quoted as CSV for its quotes and comma.
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'@SUM(A1),"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'+cmd,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'-x,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'\tlead,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",plain.name,"), std::string::npos) << csv;
  // The negative alpha is a numeric cell: no quote anywhere before a digit.
  EXPECT_NE(csv.find(",-1.5"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("'-1"), std::string::npos) << csv;
  EXPECT_EQ(Lines(csv).size(), 7u);
}

TEST(CsvWriterTest, ModelColumnIsProtectedToo) {
  model::ModelReport a, b;
  a.path = "=cmd|' /C calc'!A0";
  a.layers = {Row(0, "w", 1)};
  b.path = "ok.safetensors";
  b.layers = {Row(0, "w", 1)};
  std::ostringstream out;
  WriteCsv({a, b}, out);
  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind("'=cmd|' /C calc'!A0,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("ok.safetensors,", 0), 0u) << lines[2];
}

}  // namespace
}  // namespace htsr::output
