// libhdf5 in child processes (client/readers/hdf5_sandbox.h): the files that crash Debian's
// HDF5 1.10.8 (tests/fuzz/known_hdf5_issues/) are errors naming the file, and a child that
// hangs or crashes while walking or reading becomes an error, never a dead or stuck caller.
#include "readers/hdf5_sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../../../fuzz/hdf5_sanitizer_hooks.h"
#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

std::string Keras(const std::string& name) { return DataPath("readers/keras/" + name); }

// Restores the default limits when a test ends.
class SandboxLimits {
 public:
  explicit SandboxLimits(const Hdf5SandboxLimits& limits) {
    SetHdf5SandboxLimitsForTesting(limits);
  }
  ~SandboxLimits() { SetHdf5SandboxLimitsForTesting(DefaultHdf5SandboxLimits()); }
};

TEST(Hdf5SandboxTest, KnownLibraryCrashesAreErrorsNamingTheFile) {
  const std::filesystem::path dir =
      std::filesystem::path(HTSR_SOURCE_DIR) / "tests/fuzz/known_hdf5_issues";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".md") continue;
    ++files;
    const std::string path = entry.path().string();
    // As a file on disk and inside a .keras archive.
    auto r = OpenCheckpoint(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_HAS(r.status().message(), entry.path().filename().string());
    ZipWriter z;
    z.Add("config.json", "{}");
    z.Add("model.weights.h5", ReadFileOrDie(path));
    auto k = OpenCheckpointFromBuffer("m.keras", z.Finish());
    ASSERT_FALSE(k.ok());
    EXPECT_HAS(k.status().message(), "m.keras: member 'model.weights.h5'");
  }
  EXPECT_GE(files, 1);
}

void HangWhileWalking(bool reading) {
  if (!reading) {
    for (;;) pause();
  }
}

TEST(Hdf5SandboxTest, AWalkThatHangsIsStoppedByTheTimeLimit) {
  Hdf5SandboxLimits limits;
  limits.walk_seconds = 0.5;
  limits.child_hook_for_testing = HangWhileWalking;
  SandboxLimits set(limits);
  auto r = OpenCheckpoint(Keras("legacy.h5"));
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "legacy.h5: the HDF5 library failed opening this file");
  EXPECT_HAS(r.status().message(), "ran past its time limit of 0.5 s");
  EXPECT_HAS(r.status().message(), "the file is corrupt or hostile");
}

void CrashWhileWalking(bool reading) {
  if (!reading) raise(SIGKILL);
}

TEST(Hdf5SandboxTest, AWalkThatCrashesIsAnError) {
  Hdf5SandboxLimits limits;
  limits.child_hook_for_testing = CrashWhileWalking;
  SandboxLimits set(limits);
  auto r = OpenCheckpoint(Keras("real.keras"));
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(),
             "real.keras: member 'model.weights.h5': the HDF5 library failed opening this file "
             "(the reading process was killed by signal 9");
}

void CrashWhileReading(bool reading) {
  if (reading) raise(SIGKILL);
}

void HangWhileReading(bool reading) {
  if (reading) {
    for (;;) pause();
  }
}

TEST(Hdf5SandboxTest, ReadingThatCrashesOrHangsIsALoadError) {
  for (auto hook : {CrashWhileReading, HangWhileReading}) {
    Hdf5SandboxLimits limits;
    limits.read_seconds = 0.5;
    limits.read_seconds_per_gib = 0;
    limits.child_hook_for_testing = hook;
    SandboxLimits set(limits);
    auto r = OpenCheckpoint(Keras("legacy.h5"));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE((*r)->Tensors().empty());
    auto v = (*r)->Load(0);
    ASSERT_FALSE(v.ok());
    EXPECT_HAS(v.status().message(), "legacy.h5: the HDF5 library failed reading this file");
    EXPECT_HAS(v.status().message(),
               hook == CrashWhileReading ? "signal 9" : "ran past its time limit of 0.5 s");
    // The failure is remembered: no second child for the same batch.
    auto again = (*r)->Load(0);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status(), v.status());
  }
}

TEST(Hdf5SandboxTest, SmallBatchesReadTheSameBytes) {
  auto whole = OpenCheckpoint(Keras("real.keras"));
  ASSERT_TRUE(whole.ok()) << whole.status();
  Hdf5SandboxLimits limits;
  limits.batch_bytes = 1;  // one dataset per child
  SandboxLimits set(limits);
  auto split = OpenCheckpoint(Keras("real.keras"));
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ((*split)->Tensors().size(), (*whole)->Tensors().size());
  // Backwards, and each view kept while the next loads: batches are read out of order.
  std::vector<TensorView> views;
  for (size_t i = (*split)->Tensors().size(); i-- > 0;) {
    auto a = (*split)->Load(i);
    auto b = (*whole)->Load(i);
    ASSERT_TRUE(a.ok() && b.ok()) << i;
    EXPECT_TRUE(std::equal(a->bytes.begin(), a->bytes.end(), b->bytes.begin(), b->bytes.end()))
        << (*split)->Tensors()[i].name;
    views.push_back(*std::move(a));
  }
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerAllocator = true;
#else
constexpr bool kSanitizerAllocator = false;
#endif

// Children forked from several threads at once (as scan --jobs or a Python session may): each
// gets its own pipe and memfd, and none holds another's pipe open past its end.
TEST(Hdf5SandboxTest, ThreadsForkingAtOnceReadTheSameBytes) {
  if (kSanitizerAllocator) {
    // GCC 12's ASan allocator has no fork handlers: a child forked while another thread holds
    // one of its locks waits for it forever (seen: H5open -> malloc), and only the wall-clock
    // limit ends it, as an error after 120 s. glibc's malloc, which release builds use, is
    // reset by fork.
    GTEST_SKIP() << "the sanitizer's allocator is not fork-safe with other threads allocating";
  }
  auto expected = OpenCheckpoint(Keras("real.keras"));
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::vector<std::string> want;
  for (size_t i = 0; i < (*expected)->Tensors().size(); ++i) {
    auto v = (*expected)->Load(i);
    ASSERT_TRUE(v.ok()) << v.status();
    want.emplace_back(reinterpret_cast<const char*>(v->bytes.data()), v->bytes.size());
  }
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        auto r = OpenCheckpoint(Keras(t % 2 == 0 ? "real.keras" : "legacy.h5"));
        if (!r.ok()) {
          ++bad[t];
          continue;
        }
        for (size_t i = 0; i < (*r)->Tensors().size(); ++i) {
          auto v = (*r)->Load(i);
          if (!v.ok()) {
            ++bad[t];
          } else if (t % 2 == 0 && std::string(reinterpret_cast<const char*>(v->bytes.data()),
                                               v->bytes.size()) != want[i]) {
            ++bad[t];
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace htsr::readers::testing
