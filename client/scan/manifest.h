// Scan manifests: one checkpoint per line, optional extra columns kept with its results.
//
//   # comments and blank lines are ignored
//   path            model      accuracy     <- optional header: first field literally "path"
//   runs/e1.pt      resnet18   0.61
//   runs/e2.pt      resnet18   0.68
//
// Fields are tab-separated when a line has a tab, else comma-separated, else separated by
// runs of spaces. Without a header, extra columns are named col2, col3, ... Relative paths
// are relative to the manifest's directory, so a manifest travels with its checkpoints.
// A column named "base" (header) is a base model's path, also relative to the manifest: the
// checkpoint is analysed against it (analyze --base), and the base's content hash joins the
// options key, so a resumed scan redoes a row whose base changed.
#ifndef HTSR_CLIENT_SCAN_MANIFEST_H_
#define HTSR_CLIENT_SCAN_MANIFEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scan/scan_item.h"

namespace htsr::scan {

inline constexpr char kBaseColumn[] = "base";

// `text` is the manifest's contents; `manifest_path` names it in errors and anchors
// relative paths. Errors name the line.
absl::StatusOr<std::vector<ScanItem>> ParseManifest(const std::string& text,
                                                    const std::string& manifest_path);

absl::StatusOr<std::vector<ScanItem>> ReadManifest(const std::string& manifest_path);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_MANIFEST_H_
