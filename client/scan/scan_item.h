// One checkpoint to scan, with the manifest's extra columns kept alongside its results.
#ifndef HTSR_CLIENT_SCAN_SCAN_ITEM_H_
#define HTSR_CLIENT_SCAN_SCAN_ITEM_H_

#include <string>
#include <utility>
#include <vector>

namespace htsr::scan {

struct ScanItem {
  std::string path;
  // (column name, value) in manifest order, e.g. {"model", "resnet18"}, {"accuracy", "0.71"}.
  std::vector<std::pair<std::string, std::string>> extra;
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_ITEM_H_
