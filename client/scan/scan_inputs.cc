#include "scan/scan_inputs.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace htsr::scan {
namespace {

namespace fs = std::filesystem;

// Bounds a walk of a mistyped root ("/"): a scan of more checkpoints than this is better
// written as a manifest.
constexpr size_t kMaxWalkEntries = 1000000;

bool HasCheckpointExtension(const fs::path& p) {
  static const std::set<std::string> kExt = {".safetensors", ".pt",  ".pth", ".bin",
                                             ".ckpt",        ".npz", ".npy", ".gguf"};
  return kExt.count(p.extension().string()) > 0;
}

bool IsGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Shards of a Hugging Face directory are not checkpoints of their own.
bool IsShardFile(const fs::path& p) {
  const std::string name = p.filename().string();
  return absl::StrContains(name, "-of-") && HasCheckpointExtension(p);
}

absl::Status WalkDirectory(const std::string& root, std::vector<std::string>* out) {
  std::error_code ec;
  size_t seen = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxWalkEntries) {
      return absl::ResourceExhaustedError(absl::StrCat(
          root, ": more than ", kMaxWalkEntries, " entries; list the checkpoints in a manifest"));
    }
    const fs::path& p = it->path();
    if (!p.filename().empty() && p.filename().string()[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) {
      if (IsCheckpointDirectory(p.string())) {
        out->push_back(p.lexically_normal().string());
        it.disable_recursion_pending();
      }
      continue;
    }
    if (it->is_regular_file(ec) && HasCheckpointExtension(p) && !IsShardFile(p)) {
      out->push_back(p.lexically_normal().string());
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat(root, ": cannot list: ", ec.message()));
  return absl::OkStatus();
}

absl::Status ExpandOne(const std::string& input, std::vector<std::string>* out) {
  std::error_code ec;
  if (IsGlob(input) && !fs::exists(input, ec)) {
    glob_t g{};
    const int rc = ::glob(input.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
      globfree(&g);
      return absl::NotFoundError(absl::StrCat(input, ": no file matches"));
    }
    if (rc != 0) {
      globfree(&g);
      return absl::InvalidArgumentError(absl::StrCat(input, ": bad glob"));
    }
    absl::Status status;
    for (size_t i = 0; i < g.gl_pathc && status.ok(); ++i) {
      const std::string m = g.gl_pathv[i];
      // A glob that names directories means "these checkpoints", whatever is inside.
      if (fs::is_directory(m, ec) && !IsCheckpointDirectory(m)) {
        status = WalkDirectory(m, out);
      } else {
        out->push_back(fs::path(m).lexically_normal().string());
      }
    }
    globfree(&g);
    return status;
  }
  const fs::file_status st = fs::status(input, ec);
  if (ec || !fs::exists(st)) return absl::NotFoundError(absl::StrCat(input, ": no such file"));
  if (fs::is_directory(st) && !IsCheckpointDirectory(input)) {
    const size_t before = out->size();
    absl::Status s = WalkDirectory(input, out);
    if (!s.ok()) return s;
    if (out->size() == before) {
      return absl::NotFoundError(absl::StrCat(input, ": no checkpoints in this directory"));
    }
    return absl::OkStatus();
  }
  // A single file is scanned whatever its extension: the reader decides by magic bytes.
  out->push_back(fs::path(input).lexically_normal().string());
  return absl::OkStatus();
}

}  // namespace

bool IsCheckpointDirectory(const std::string& dir) {
  std::error_code ec;
  for (const char* name :
       {"model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json",
        "pytorch_model.bin", "adapter_config.json"}) {  // a PEFT LoRA adapter
    if (fs::is_regular_file(fs::path(dir) / name, ec)) return true;
  }
  return false;
}

absl::StatusOr<std::vector<ScanItem>> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const std::string& in : inputs) {
    absl::Status s = ExpandOne(in, &paths);
    if (!s.ok()) return s;
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<ScanItem> items;
  items.reserve(paths.size());
  for (std::string& p : paths) items.push_back(ScanItem{std::move(p), {}});
  return items;
}

std::vector<ScanItem> MergeItems(std::vector<ScanItem> a, std::vector<ScanItem> b) {
  std::set<std::string> seen;
  std::vector<ScanItem> out;
  for (auto* list : {&a, &b}) {
    for (ScanItem& item : *list) {
      if (seen.insert(item.path).second) out.push_back(std::move(item));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ExpandModelPaths(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (!fs::is_directory(input, ec) || IsCheckpointDirectory(input)) {
      out.push_back(input);
      continue;
    }
    absl::StatusOr<std::vector<ScanItem>> found = ExpandInputs({input});
    if (!found.ok()) return found.status();
    for (ScanItem& item : *found) out.push_back(std::move(item.path));
  }
  return out;
}

}  // namespace htsr::scan
