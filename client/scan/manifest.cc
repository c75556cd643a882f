#include "scan/manifest.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace htsr::scan {
namespace {

namespace fs = std::filesystem;

// A manifest is a text listing; anything this large is the wrong file.
constexpr size_t kMaxManifestBytes = size_t{256} << 20;

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields;
  if (line.find('\t') != std::string::npos) {
    fields = absl::StrSplit(line, '\t');
  } else if (line.find(',') != std::string::npos) {
    fields = absl::StrSplit(line, ',');
  } else {
    fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  }
  for (std::string& f : fields) f = std::string(absl::StripAsciiWhitespace(f));
  return fields;
}

}  // namespace

absl::StatusOr<std::vector<ScanItem>> ParseManifest(const std::string& text,
                                                    const std::string& manifest_path) {
  const fs::path base = fs::path(manifest_path).parent_path();
  std::vector<std::string> header;
  std::vector<ScanItem> items;
  int line_no = 0;
  bool first = true;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = SplitFields(line);
    if (fields.empty() || fields[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path, ":", line_no, ": no checkpoint path in the first field"));
    }
    if (first && fields[0] == "path") {
      header = fields;
      first = false;
      continue;
    }
    first = false;
    if (!header.empty() && fields.size() > header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(manifest_path, ":", line_no, ": ",
                                                     fields.size(), " fields but the header has ",
                                                     header.size()));
    }
    ScanItem item;
    fs::path p(fields[0]);
    item.path = (p.is_absolute() || base.empty() ? p : base / p).lexically_normal().string();
    for (size_t i = 1; i < fields.size(); ++i) {
      std::string name = header.empty() ? absl::StrCat("col", i + 1) : header[i];
      std::string value = fields[i];
      if (name == kBaseColumn && !value.empty()) {
        // A base model is a path like the checkpoint's: relative to the manifest.
        fs::path b(value);
        value = (b.is_absolute() || base.empty() ? b : base / b).lexically_normal().string();
      }
      item.extra.emplace_back(std::move(name), std::move(value));
    }
    items.push_back(std::move(item));
  }
  return items;
}

absl::StatusOr<std::vector<ScanItem>> ReadManifest(const std::string& manifest_path) {
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read manifest ", manifest_path));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > kMaxManifestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ": ", text.size(), " bytes is too large for a manifest"));
  }
  return ParseManifest(text, manifest_path);
}

}  // namespace htsr::scan
