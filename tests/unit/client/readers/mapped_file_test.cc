#include "readers/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers::testing {
namespace {

std::string TempFile(const std::string& name, const std::string& bytes) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/htsr_mapped_", ::getpid(), "_", name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

// Reads every byte the way a consumer would (the engine's conversion, a hash).
// volatile: the reads happen even where the sum is not used.
uint64_t SumBytes(std::span<const std::byte> bytes) {
  const volatile uint8_t* p = reinterpret_cast<const volatile uint8_t*>(bytes.data());
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes.size(); ++i) sum += p[i];
  return sum;
}

// A mapped file truncated under the reader used to kill the process with SIGBUS (status 135,
// no message) at the first read past its new end.
TEST(MappedFileTest, ReadingAFileThatShrankGivesZerosAndAnErrorNamingIt) {
  const size_t page = PageSize();
  const std::string path = TempFile("shrunk", std::string(5 * page, 'x'));
  auto f = MapFile(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(CheckFileIntact(*f).ok());
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(page + 10)), 0);
  // The rest of the second page reads as zeros (the kernel's), the three pages past it fault
  // and read as zeros (ours).
  EXPECT_EQ(SumBytes(f->bytes), (page + 10) * uint64_t{'x'});
  const absl::Status s = CheckFileIntact(*f);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_HAS(s.message(), absl::StrCat(path, ": the file shrank while being read (", 5 * page,
                                       " bytes when opened, ", page + 10, " now)"));
  std::filesystem::remove(path);
}

TEST(MappedFileTest, ShrinkWithinTheLastPageIsSeenWithoutAFault) {
  const std::string path = TempFile("tail", std::string(100, 'x'));
  auto f = MapFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(::truncate(path.c_str(), 60), 0);
  EXPECT_EQ(SumBytes(f->bytes), 60 * uint64_t{'x'});  // no signal: zeros past the end
  EXPECT_HAS(CheckFileIntact(*f).message(), "100 bytes when opened, 60 now");
  std::filesystem::remove(path);
}

TEST(MappedFileTest, AFaultIsRememberedAfterTheFileGrowsBack) {
  const size_t page = PageSize();
  const std::string path = TempFile("regrown", std::string(3 * page, 'x'));
  auto f = MapFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(page)), 0);
  EXPECT_EQ(SumBytes(f->bytes), page * uint64_t{'x'});
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(3 * page)), 0);
  EXPECT_HAS(CheckFileIntact(*f).message(), "fewer while being read");
  std::filesystem::remove(path);
}

TEST(MappedFileTest, CheckpointReaderReportsTheTruncatedFile) {
  std::string data;
  for (int i = 0; i < 3 * 4096; ++i) data += FloatBytes({static_cast<float>(i)});
  const std::string header =
      absl::StrCat(R"({"a":{"dtype":"F32","shape":[4096],"data_offsets":[0,16384]},)",
                   R"("b":{"dtype":"F32","shape":[8192],"data_offsets":[16384,49152]}})");
  const std::string path = TempFile("t.safetensors", Safetensors(header, data));
  auto r = OpenCheckpoint(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->CheckIntact().ok());
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(8 + header.size() + 1000)), 0);
  for (size_t i = 0; i < (*r)->Tensors().size(); ++i) {
    auto v = (*r)->Load(i);
    ASSERT_TRUE(v.ok());
    SumBytes(v->bytes);
  }
  const absl::Status s = (*r)->CheckIntact();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_HAS(s.message(), path + ": the file shrank while being read");
  std::filesystem::remove(path);
}

TEST(MappedFileTest, BuffersAreAlwaysIntact) {
  EXPECT_TRUE(CheckFileIntact(BufferBytes("b", "abc")).ok());
  auto r =
      OpenCheckpointFromBuffer("b.safetensors", Safetensors(R"({"a":{"dtype":"F32","shape":[1],)"
                                                            R"("data_offsets":[0,4]}})",
                                                            FloatBytes({1})));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->CheckIntact().ok());
}

// How a SIGBUS that is not ours ends the process: by the signal; under AddressSanitizer,
// whose handler was there before ours and takes it, by ASan's report and exit code.
bool DiedOfForeignBusError(int status) {
#if defined(__SANITIZE_ADDRESS__)
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return true;
#endif
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

// The handler takes only faults in MapFile's mappings; any other SIGBUS still ends the
// process as it did before the handler existed.
TEST(MappedFileDeathTest, OtherBusErrorsStillKill) {
  const std::string path = TempFile("other", std::string(3 * PageSize(), 'x'));
  ASSERT_TRUE(MapFile(path).ok());  // installs the handler
  EXPECT_EXIT(::raise(SIGBUS), DiedOfForeignBusError, "");
  EXPECT_EXIT(
      {
        void* p = ::mmap(nullptr, 3 * PageSize(), PROT_READ, MAP_PRIVATE,
                         ::open(path.c_str(), O_RDONLY), 0);
        if (::truncate(path.c_str(), 0) != 0) ::_exit(1);
        SumBytes(std::span<const std::byte>(static_cast<const std::byte*>(p), 3 * PageSize()));
        ::_exit(0);
      },
      DiedOfForeignBusError, "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace htsr::readers::testing
