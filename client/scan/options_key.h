// A canonical text of everything that changes a checkpoint's results (analysis options and
// the layer selection; not the device or thread count, which do not). The store treats a
// checkpoint done under other options as not done.
#ifndef HTSR_CLIENT_SCAN_OPTIONS_KEY_H_
#define HTSR_CLIENT_SCAN_OPTIONS_KEY_H_

#include <string>

#include "htsr/options.h"

namespace htsr::scan {

std::string OptionsKey(const AnalysisOptions& options, const std::string& layers_spec);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_OPTIONS_KEY_H_
