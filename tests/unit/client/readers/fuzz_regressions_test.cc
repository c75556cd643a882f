// Replays every input under tests/fuzz/regressions/<reader>/ (inputs that once crashed a
// reader or broke an invariant under libFuzzer) and the fuzz seeds, through the same body
// as the fuzz targets. Run it in an HTSR_SANITIZE build to get the fuzzers' checks.
#include <filesystem>
#include <string>

#include "../../../fuzz/reader_fuzz_body.h"
#include "gtest/gtest.h"
#include "reader_test_util.h"

namespace htsr::readers::testing {
namespace {

size_t ReplayDir(const std::string& reader, const std::filesystem::path& dir) {
  size_t count = 0;
  if (!std::filesystem::is_directory(dir)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    const std::string bytes = ReadFileOrDie(entry.path().string());
    const std::string broken =
        fuzz::ExerciseReader(reader, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    EXPECT_EQ(broken, "") << entry.path();
    ++count;
  }
  return count;
}

TEST(FuzzRegressionsTest, ReplaysRegressionsAndSeeds) {
  const std::filesystem::path fuzz_dir = std::filesystem::path(HTSR_SOURCE_DIR) / "tests/fuzz";
  size_t seeds = 0;
  for (const char* reader : fuzz::kReaders) {
    ReplayDir(reader, fuzz_dir / "regressions" / reader);
    seeds += ReplayDir(reader, fuzz_dir / "seeds" / reader);
  }
  EXPECT_GT(seeds, 10u);  // the seeds are there, so this test exercises something
}

// Seeds are valid files: each must open with its reader and load fully.
TEST(FuzzRegressionsTest, SeedsAreValidCheckpoints) {
  const std::filesystem::path seeds = std::filesystem::path(HTSR_SOURCE_DIR) / "tests/fuzz/seeds";
  for (const char* reader : {"safetensors", "npy", "npz", "pytorch", "gguf", "any"}) {
    for (const auto& entry : std::filesystem::directory_iterator(seeds / reader)) {
      auto r =
          OpenCheckpointFromBuffer(entry.path().string(), ReadFileOrDie(entry.path().string()));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_GT((*r)->Tensors().size(), 0u) << entry.path();
      EXPECT_EQ(fuzz::CheckReader(**r), "") << entry.path();
    }
  }
}

// Files the readers once analysed although the format's own rules (or a zip bomb's shape)
// forbid them: each is refused with an error naming what is wrong.
TEST(FuzzRegressionsTest, LayoutViolationsAreRefused) {
  const std::filesystem::path dir =
      std::filesystem::path(HTSR_SOURCE_DIR) / "tests/fuzz/regressions";
  const struct {
    const char* file;
    const char* error;
  } kCases[] = {
      {"safetensors/overlapping_offsets", "tensor 'b': data_offsets [4, 12] overlap tensor 'a'"},
      {"safetensors/identical_offsets", "tensor 'b': data_offsets [0, 8] overlap tensor 'a'"},
      {"safetensors/gap_between_tensors", "leave a gap of 4 bytes at data offset 4"},
      {"safetensors/trailing_bytes", "14 trailing bytes from data offset 4"},
      {"safetensors/invalid_utf8_header", "header is not valid UTF-8"},
      {"npz/overlap_bomb", "overlapping entries"},
      {"npz/duplicate_names", "two entries are named 'w.npy'"},
      {"npz/suffix_collision", "members 'w.npy' and 'w' both hold tensor 'w'"},
      {"zip/nested_overlap", "entry 'inner' (bytes 39 to 81) overlaps entry 'outer'"},
  };
  for (const auto& c : kCases) {
    const std::string path = (dir / c.file).string();
    auto r = OpenCheckpointFromBuffer(path, ReadFileOrDie(path));
    ASSERT_FALSE(r.ok()) << path << " was accepted";
    EXPECT_HAS(r.status().message(), path);
    EXPECT_HAS(r.status().message(), c.error);
  }
}

}  // namespace
}  // namespace htsr::readers::testing
