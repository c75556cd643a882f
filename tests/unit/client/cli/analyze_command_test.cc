// htsr analyze --out: the file appears only for a complete answer, whole.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../readers/reader_test_util.h"
#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "gtest/gtest.h"

namespace htsr::cli {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Call(std::vector<std::string> argv) {
  std::ostringstream out, err;
  const int code = RunCommandLine(argv, out, err);
  return {code, out.str(), err.str()};
}

class AnalyzeOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / absl::StrCat("htsr_analyze_out_", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

// Used to leave a header-only CSV at --out (exit 2): a file that looks like an answer.
TEST_F(AnalyzeOutTest, UnreadableInputLeavesNoFile) {
  const std::string out = Path("out.csv");
  const Outcome o =
      Call({"analyze", Path("missing.safetensors"), "--format", "csv", "--out", out, "--quiet"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_NE(o.err.find("missing.safetensors"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--out " + out + " not written"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Files().empty());
}

TEST_F(AnalyzeOutTest, UnreadableInputLeavesThePreviousFileUntouched) {
  const std::string out = Path("out.csv");
  std::ofstream(out) << "previous answer\n";
  const Outcome o =
      Call({"analyze", Path("missing.safetensors"), "--format", "json", "--out", out, "--quiet"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_EQ(readers::testing::ReadFileOrDie(out), "previous answer\n");
  EXPECT_EQ(Files(), std::vector<std::string>{"out.csv"});
}

TEST_F(AnalyzeOutTest, SuccessReplacesTheFileWholeAndLeavesNoTemporary) {
  size_t data_start = 0;
  const std::string model = Path("m.safetensors");
  std::ofstream(model, std::ios::binary) << readers::testing::DenseSafetensors(2, 32, &data_start);
  const std::string out = Path("out.csv");
  std::ofstream(out) << "previous answer\n";
  const Outcome o = Call({"analyze", model, "--format", "csv", "--out", out, "--quiet"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(o.out, "");
  const std::string csv = readers::testing::ReadFileOrDie(out);
  EXPECT_EQ(csv.rfind("layer_id,name,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\n2,l1,"), std::string::npos) << csv;
  EXPECT_EQ(Files(), (std::vector<std::string>{"m.safetensors", "out.csv"}));
}

TEST_F(AnalyzeOutTest, UnwritableOutIsAnError) {
  size_t data_start = 0;
  const std::string model = Path("m.safetensors");
  std::ofstream(model, std::ios::binary) << readers::testing::DenseSafetensors(1, 16, &data_start);
  const Outcome o =
      Call({"analyze", model, "--format", "csv", "--out", Path("no/such/dir/out.csv"), "--quiet"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_NE(o.err.find("cannot write " + Path("no/such/dir/out.csv")), std::string::npos) << o.err;
}

}  // namespace
}  // namespace htsr::cli
