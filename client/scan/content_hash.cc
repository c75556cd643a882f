#include "scan/content_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"
#include "scan/sha256.h"

namespace htsr::scan {
namespace {

namespace fs = std::filesystem;

// Directory checkpoints are a handful of shards; anything far larger is not a checkpoint
// and would make the scan hash a whole tree by mistake.
constexpr size_t kMaxFilesInDirectory = 10000;

std::string Stamp(const struct stat& st) {
  return absl::StrCat(st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec, ";");
}

absl::Status HashFileInto(const std::string& path, Sha256& hasher, uint64_t* bytes,
                          std::string* stamp) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat before;
  if (::fstat(fd, &before) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::DataLossError(absl::StrCat(path, ": cannot stat: ", std::strerror(err)));
  }
  const uint64_t start = *bytes;
  std::vector<char> buf(size_t{1} << 20);
  absl::Status status;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = absl::DataLossError(
          absl::StrCat(path, ": read failed at byte ", *bytes, ": ", std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    hasher.Update(buf.data(), static_cast<size_t>(n));
    *bytes += static_cast<uint64_t>(n);
  }
  // A file written while it was read hashes to bytes it never held as a whole.
  struct stat after;
  if (status.ok() && (::fstat(fd, &after) != 0 || Stamp(after) != Stamp(before) ||
                      *bytes - start != static_cast<uint64_t>(before.st_size))) {
    status = absl::AbortedError(absl::StrCat(path, ": changed while being hashed"));
  }
  ::close(fd);
  absl::StrAppend(stamp, Stamp(before));
  return status;
}

}  // namespace

absl::StatusOr<ContentHash> HashCheckpoint(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  ContentHash out;
  Sha256 hasher;
  if (fs::is_regular_file(st)) {
    HTSR_RETURN_IF_ERROR(HashFileInto(path, hasher, &out.bytes, &out.stamp));
    out.sha256 = hasher.HexDigest();
    return out;
  }
  if (!fs::is_directory(st)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a file or directory"));
  }
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // VCS metadata and hidden files are not part of the weights.
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    files.push_back(fs::relative(it->path(), path, ec).generic_string());
    if (files.size() > kMaxFilesInDirectory) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": more than ", kMaxFilesInDirectory,
                                                     " files: not a checkpoint directory"));
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat(path, ": cannot list: ", ec.message()));
  std::sort(files.begin(), files.end());
  for (const std::string& rel : files) {
    // The name is part of the content: a renamed shard is a different checkpoint. The size
    // prefix keeps the concatenation unambiguous.
    const std::string full = (fs::path(path) / rel).string();
    const uintmax_t size = fs::file_size(full, ec);
    if (ec) return absl::NotFoundError(absl::StrCat(full, ": ", ec.message()));
    const std::string nul(1, '\0');
    hasher.Update(absl::StrCat(rel, nul, size, nul));
    out.stamp += rel + '\0';
    HTSR_RETURN_IF_ERROR(HashFileInto(full, hasher, &out.bytes, &out.stamp));
  }
  out.sha256 = hasher.HexDigest();
  return out;
}

absl::Status CheckUnchanged(const std::string& path, const ContentHash& before) {
  absl::StatusOr<ContentHash> now = HashCheckpoint(path);
  std::string what;
  if (!now.ok()) {
    what = std::string(now.status().message());
  } else if (now->sha256 != before.sha256) {
    what = "its content hash differs from the one taken before the analysis";
  } else if (now->stamp != before.stamp) {
    what = "its size, modification time or files differ from before the analysis";
  } else {
    return absl::OkStatus();
  }
  return absl::AbortedError(
      absl::StrCat(path, ": changed while being analysed (", what,
                   "); not recorded as done, so the next scan analyses it again"));
}

}  // namespace htsr::scan
