#include "output/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace htsr::output {

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  // Beside the target, so rename stays within one file system.
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  auto fail = [&](absl::string_view what, int err) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", path, ": ", what, ": ", std::strerror(err)));
  };
  if (fd < 0) return fail("cannot create a temporary file beside it", errno);
  tmp = name.data();
  // mkstemp creates 0600; an output file gets the usual 0666 less the umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail("write failed", err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail("flush failed", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail("rename failed", err);
  }
  return absl::OkStatus();
}

}  // namespace htsr::output
