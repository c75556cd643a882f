#include "scan/scan_runner.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

#include <gtest/gtest.h>

#include "../readers/reader_test_util.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "analysis/checkpoint_analyzer.h"
#include "test_files.h"

namespace htsr::scan {
namespace {

// A stand-in for the engine: one layer whose alpha is the file's size, so results are
// known exactly; files whose name contains "bad" fail as an unreadable checkpoint would.
class FakeAnalyzer {
 public:
  analysis::CheckpointAnalyzer Get() {
    return [this](const std::string& path) -> absl::StatusOr<analysis::AnalyzedCheckpoint> {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++calls_[path];
      }
      if (on_call) on_call();
      if (path.find("bad") != std::string::npos) {
        return absl::InvalidArgumentError(path + ": not a checkpoint");
      }
      analysis::AnalyzedCheckpoint out;
      out.report.path = path;
      LayerResult l;
      l.plan.layer_id = 1;
      l.plan.name = "w";
      l.alpha = static_cast<double>(std::filesystem::file_size(path));
      out.report.layers.push_back(l);
      out.report.summary = Summarize(out.report.layers);
      return out;
    };
  }
  int Calls(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[path];
  }
  int TotalCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [p, c] : calls_) n += c;
    return n;
  }
  std::function<void()> on_call;

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

std::vector<ScanItem> MakeCheckpoints(const testing::TempDir& d, int n, bool with_bad) {
  std::vector<ScanItem> items;
  for (int i = 0; i < n; ++i) {
    items.push_back({d.Write(absl::StrCat("ck/", 100 + i, ".pt"), std::string(10 + i, 'x')), {}});
  }
  if (with_bad) items.push_back({d.Write("ck/bad.pt", "garbage"), {}});
  return items;
}

std::string Dump(ScanStore& store) {
  auto t = store.Query(
      "SELECT c.path, c.status, c.error, c.content_hash, l.layer_id, l.alpha FROM checkpoints c "
      "LEFT JOIN layers l ON l.checkpoint_id = c.id ORDER BY c.path, l.layer_id");
  std::ostringstream s;
  for (const auto& row : t->rows) {
    for (const DbValue& v : row) {
      if (const auto* i = std::get_if<int64_t>(&v)) s << *i;
      if (const auto* d = std::get_if<double>(&v)) s << *d;
      if (const auto* str = std::get_if<std::string>(&v)) s << *str;
      s << "|";
    }
    s << "\n";
  }
  return s.str();
}

TEST(ScanRunnerTest, RecordsEveryCheckpointAndTheFailedOne) {
  testing::TempDir d;
  auto items = MakeCheckpoints(d, 20, true);
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  FakeAnalyzer fake;
  std::ostringstream log;
  ScanOptions opt;
  opt.jobs = 4;
  opt.options_key = "k";
  auto stats = RunScan(items, **store, fake.Get(), opt, log);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->ok, 20);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->skipped, 0);
  EXPECT_FALSE(stats->cancelled);
  EXPECT_EQ(log.str(), "failed: " + d.Path("ck/bad.pt") + ": not a checkpoint\n");
  auto t = (*store)->Query("SELECT count(*) FROM checkpoints WHERE status='ok'");
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 20);
  auto a = (*store)->Query(
      "SELECT l.alpha FROM layers l JOIN checkpoints c ON c.id=l.checkpoint_id "
      "WHERE c.path LIKE '%/105.pt'");
  EXPECT_EQ(std::get<double>(a->rows[0][0]), 15.0);
}

TEST(ScanRunnerTest, RerunSkipsDoneRetriesFailedAndRedoesChanged) {
  testing::TempDir d;
  auto items = MakeCheckpoints(d, 10, true);
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  FakeAnalyzer fake;
  std::ostringstream log;
  ScanOptions opt;
  opt.options_key = "k";
  ASSERT_TRUE(RunScan(items, **store, fake.Get(), opt, log).ok());
  ASSERT_EQ(fake.TotalCalls(), 11);

  auto again = RunScan(items, **store, fake.Get(), opt, log);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->skipped, 10);
  EXPECT_EQ(again->failed, 1);
  EXPECT_EQ(fake.Calls(d.Path("ck/bad.pt")), 2);  // failed ones are retried
  EXPECT_EQ(fake.TotalCalls(), 12);

  d.Write("ck/103.pt", "changed bytes, changed hash");
  auto changed = RunScan(items, **store, fake.Get(), opt, log);
  EXPECT_EQ(changed->ok, 1);
  EXPECT_EQ(changed->skipped, 9);
  EXPECT_EQ(fake.Calls(d.Path("ck/103.pt")), 2);

  opt.options_key = "other options";
  auto reopt = RunScan(items, **store, fake.Get(), opt, log);
  EXPECT_EQ(reopt->ok, 10);
  EXPECT_EQ(reopt->skipped, 0);
}

TEST(ScanRunnerTest, CancelledScanResumesToTheSameDatabase) {
  testing::TempDir d;
  auto items = MakeCheckpoints(d, 30, true);
  std::ostringstream log;
  ScanOptions opt;
  opt.options_key = "k";
  opt.jobs = 3;

  auto full = ScanStore::Open(d.Path("full.sqlite"));
  FakeAnalyzer fake_full;
  ASSERT_TRUE(RunScan(items, **full, fake_full.Get(), opt, log).ok());

  auto part = ScanStore::Open(d.Path("part.sqlite"));
  FakeAnalyzer fake;
  std::atomic<bool> cancel{false};
  std::atomic<int> calls{0};
  fake.on_call = [&] {
    if (++calls == 7) cancel = true;  // as if Ctrl-C arrived during the 7th checkpoint
  };
  opt.cancel = &cancel;
  auto first = RunScan(items, **part, fake.Get(), opt, log);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->cancelled);
  EXPECT_GT(first->not_started, 0);
  // Running checkpoints finished and were recorded; nothing else was started.
  EXPECT_EQ(first->ok + first->failed, calls.load());
  EXPECT_LE(calls.load(), 7 + opt.jobs - 1);

  opt.cancel = nullptr;
  fake.on_call = nullptr;
  auto second = RunScan(items, **part, fake.Get(), opt, log);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->cancelled);
  EXPECT_EQ(second->skipped, first->ok);
  EXPECT_EQ(Dump(**part), Dump(**full));
}

TEST(ScanRunnerTest, StoreErrorsStopTheScan) {
  testing::TempDir d;
  auto items = MakeCheckpoints(d, 3, false);
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  ASSERT_TRUE((*store)->Query("DROP TABLE layers").ok());
  FakeAnalyzer fake;
  std::ostringstream log;
  ScanOptions opt;
  auto stats = RunScan(items, **store, fake.Get(), opt, log);
  EXPECT_FALSE(stats.ok());
}

// The case: the hash is taken, the file is rewritten, the analysis reads the new
// bytes. Recording that row would file the new bytes' numbers under the old bytes' hash, and
// a resumed scan would skip the restored file on the strength of numbers that are not its.
TEST(ScanRunnerTest, CheckpointChangedDuringTheAnalysisIsNotRecordedAsDone) {
  testing::TempDir d;
  const std::string path = d.Write("ck/m.pt", "pristine bytes");
  FakeAnalyzer fake;
  fake.on_call = [&] { d.Write("ck/m.pt", "corrupted, longer bytes"); };
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  std::ostringstream log;
  ScanOptions opt;
  opt.options_key = "k";
  auto first = RunScan({{path, {}}}, **store, fake.Get(), opt, log);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->ok, 0);
  EXPECT_EQ(first->failed, 1);
  EXPECT_HAS(log.str(), "failed: " + path +
                            ": changed while being analysed (its content hash differs from the "
                            "one taken before the analysis); not recorded as done");
  EXPECT_EQ(Dump(**store).find("|ok|"), std::string::npos) << Dump(**store);

  // The pristine file is back: it is analysed again, not skipped, and its own numbers stored.
  fake.on_call = nullptr;
  d.Write("ck/m.pt", "pristine bytes");
  auto second = RunScan({{path, {}}}, **store, fake.Get(), opt, log);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->skipped, 0);
  EXPECT_EQ(second->ok, 1);
  EXPECT_HAS(Dump(**store), "|ok||");
  EXPECT_HAS(Dump(**store), "|1|14|");  // alpha = the pristine file's 14 bytes
  EXPECT_EQ(fake.Calls(path), 2);
}

TEST(ScanRunnerTest, SameSizeRewriteWithTheOldMtimeIsCaughtByTheHash) {
  testing::TempDir d;
  const std::string path = d.Write("ck/m.pt", "pristine bytes");
  FakeAnalyzer fake;
  fake.on_call = [&] {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    d.Write("ck/m.pt", "PRISTINE BYTES");
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  };
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  std::ostringstream log;
  ScanOptions opt;
  auto stats = RunScan({{path, {}}}, **store, fake.Get(), opt, log);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->failed, 1);
  EXPECT_HAS(log.str(), "changed while being analysed (its content hash differs");
}

TEST(ScanRunnerTest, TouchedFileIsCaughtByItsStamp) {
  testing::TempDir d;
  const std::string path = d.Write("ck/m.pt", "pristine bytes");
  FakeAnalyzer fake;
  fake.on_call = [&] {
    const struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  };
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  std::ostringstream log;
  ScanOptions opt;
  auto stats = RunScan({{path, {}}}, **store, fake.Get(), opt, log);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->failed, 1);
  EXPECT_HAS(log.str(), "changed while being analysed (its size, modification time or files");
}

// Truncates `path` to `keep` bytes when the first layer is done.
class TruncatingProgress : public analysis::LayerProgress {
 public:
  TruncatingProgress(std::string path, off_t keep) : path_(std::move(path)), keep_(keep) {}
  void Advance(int64_t, const std::string&) override {
    if (!done_.exchange(true)) {
      EXPECT_EQ(::truncate(path_.c_str(), keep_), 0);
    }
  }
  void Finish() override {}

 private:
  std::string path_;
  off_t keep_;
  std::atomic<bool> done_{false};
};

// A checkpoint truncated while the scan analyses it (the embedded engine, for real) is a
// failed checkpoint naming the file, not a dead scan (SIGBUS) nor a row of zeros' numbers.
TEST(ScanRunnerTest, CheckpointTruncatedDuringTheAnalysisFailsNamingIt) {
  testing::TempDir d;
  size_t data_start = 0;
  const std::string path =
      d.Write("ck/model.safetensors", readers::testing::DenseSafetensors(6, 64, &data_start));
  EngineConfig config;
  config.threads = 1;
  auto engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok());
  const off_t keep = static_cast<off_t>(data_start + 64 * 64 * 4 + 100);
  auto analyzer =
      analysis::MakeEmbeddedAnalyzer(**engine, {}, [&](const std::string&, int64_t, int64_t) {
        return std::make_unique<TruncatingProgress>(path, keep);
      });
  auto store = ScanStore::Open(d.Path("s.sqlite"));
  std::ostringstream log;
  ScanOptions opt;
  opt.options_key = "k";
  auto stats = RunScan({{path, {}}}, **store, analyzer, opt, log);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->ok, 0);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_HAS(log.str(), "failed: " + path + ": the file shrank while being read");
  auto t = (*store)->Query("SELECT status, error FROM checkpoints");
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(t->rows[0][0]), "failed");
  EXPECT_HAS(std::get<std::string>(t->rows[0][1]), path + ": the file shrank while being read");
}

}  // namespace
}  // namespace htsr::scan
