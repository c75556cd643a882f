// Runs the htsr-server binary for a test: ephemeral port on 127.0.0.1 (read back from
// --port-file), stderr captured to a file, peak RSS from /proc, SIGTERM and exit status.
// Every wait is bounded; the destructor kills a server that is still running.
#ifndef HTSR_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_
#define HTSR_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace htsr::testing {

inline std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string base = t != nullptr ? t : "/tmp";
  std::string templ = base + "/htsr_server_test_XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char* dir = mkdtemp(buf.data());
  return dir != nullptr ? dir : base;
}

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServerProcess {
 public:
  // Starts the server; port() is 0 when it did not come up within `timeout`.
  explicit ServerProcess(std::vector<std::string> args,
                         std::chrono::seconds timeout = std::chrono::seconds(20)) {
    dir_ = TempDir();
    port_file_ = dir_ + "/port";
    log_file_ = dir_ + "/server.log";
    std::vector<std::string> argv = {HTSR_SERVER_BIN, "--listen=127.0.0.1:0",
                                     "--port-file=" + port_file_};
    for (std::string& a : args) argv.push_back(std::move(a));
    pid_ = fork();
    if (pid_ == 0) {
      FILE* log = std::freopen(log_file_.c_str(), "w", stderr);
      (void)log;
      std::vector<char*> cargv;
      for (std::string& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      const std::string text = ReadFileOrEmpty(port_file_);
      if (!text.empty()) {
        port_ = std::atoi(text.c_str());
        break;
      }
      if (ExitedEarly()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exit_status_.has_value()) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return ReadFileOrEmpty(log_file_); }
  const std::string& dir() const { return dir_; }

  // A /proc/PID/status field in KiB (VmRSS, VmHWM); -1 if unreadable.
  long StatusKiB(const std::string& field) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
    }
    return -1;
  }

  // Sends `sig` and waits up to `timeout` for the exit; the exit code, or nullopt.
  std::optional<int> Stop(int sig, std::chrono::milliseconds timeout) {
    kill(pid_, sig);
    return Wait(timeout);
  }

  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!exit_status_.has_value() && std::chrono::steady_clock::now() < until) {
      if (!ExitedEarly()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }

 private:
  bool ExitedEarly() {
    if (exit_status_.has_value()) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    return false;
  }

  std::string dir_, port_file_, log_file_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::optional<int> exit_status_;
};

}  // namespace htsr::testing

#endif  // HTSR_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_
