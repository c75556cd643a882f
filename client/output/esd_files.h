// Spectra as files (analyze --save-esd DIR): each analysed layer's eigenvalues as a .npy
// (float64, ascending, as the reference's get_ESD returns them) and one JSON side file per
// model that says which file is which layer and under which options it was computed.
#ifndef HTSR_CLIENT_OUTPUT_ESD_FILES_H_
#define HTSR_CLIENT_OUTPUT_ESD_FILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "htsr/options.h"
#include "model/model_report.h"

namespace htsr::output {

// A .npy file (format 1.0) of one float64 vector: '<f8', C order, shape (n,).
std::string NpyVector(const std::vector<double>& values);

// A file-name-safe form of `text`: characters other than [A-Za-z0-9._-] become '_', a leading
// '.' too (no hidden files, no ".."), at most 120 characters.
std::string SafeFileName(std::string_view text);

// Writes, for every row of `report` with a spectrum (LayerResult::evals, so the engine must
// keep them), DIR/<model>.layer<id>[.slice<k>].<name>.npy and DIR/<model>.esd.json listing
// them (layer_id, name, tensor_name, slice_id, N, M, rf, num_evals, lambda_max, status, file)
// with `options`. <model> is the checkpoint's file name (SafeFileName). DIR is created.
absl::Status WriteEsdFiles(const std::string& dir, const model::ModelReport& report,
                           const AnalysisOptions& options);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_ESD_FILES_H_
