// Temporary directories and files for the scan tests.
#ifndef HTSR_TESTS_UNIT_CLIENT_SCAN_TEST_FILES_H_
#define HTSR_TESTS_UNIT_CLIENT_SCAN_TEST_FILES_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace htsr::scan::testing {

// A fresh directory under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("htsr_scan_") + info->test_suite_name() + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Path(const std::string& rel = "") const { return (path_ / rel).string(); }
  std::string Write(const std::string& rel, const std::string& bytes) const {
    const std::filesystem::path p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace htsr::scan::testing

#endif  // HTSR_TESTS_UNIT_CLIENT_SCAN_TEST_FILES_H_
