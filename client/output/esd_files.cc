#include "output/esd_files.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "htsr/status_macros.h"
#include "output/atomic_file.h"
#include "output/json_writer.h"

namespace htsr::output {
namespace {

const char* FitName(FitType f) {
  switch (f) {
    case FitType::kPowerLaw:
      return "pl";
    case FitType::kTruncatedPowerLaw:
      return "tpl";
    default:
      return "e_tpl";
  }
}

std::string OptionsJson(const AnalysisOptions& o) {
  return absl::StrCat(
      "{\"min_evals\": ", o.min_evals, ", \"max_evals\": ", o.max_evals, ", \"max_N\": ", o.max_n,
      ", \"pool\": ", o.pool ? "true" : "false",
      ", \"all_tensors\": ", o.all_tensors ? "true" : "false",
      ", \"reference_layer_set\": ", o.reference_layer_set ? "true" : "false",
      ", \"normalize\": ", o.normalize ? "true" : "false", ", \"fit\": \"", FitName(o.fit),
      "\", \"fix_fingers\": ", o.fix_fingers == FixFingers::kClipXmax ? "\"clip_xmax\"" : "null",
      ", \"xmax_drop\": ", o.xmax_drop, ", \"precision\": \"",
      o.precision == Precision::kF32 ? "f32" : "f64", "\"}");
}

}  // namespace

std::string NpyVector(const std::vector<double>& values) {
  std::string header =
      absl::StrCat("{'descr': '<f8', 'fortran_order': False, 'shape': (", values.size(), ",), }");
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
  // 64 and ended by '\n' (the format's rule for version 1.0).
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(double));
  // Little-endian float64: the hosts htsr builds on are little-endian (static_assert below).
  static_assert(std::endian::native == std::endian::little);
  if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * sizeof(double));
  return out;
}

std::string SafeFileName(std::string_view text) {
  std::string s;
  for (char c : text.substr(0, 120)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    s.push_back(ok ? c : '_');
  }
  if (s.empty() || s[0] == '.') s.insert(s.begin(), '_');
  return s;
}

absl::Status WriteEsdFiles(const std::string& dir, const model::ModelReport& report,
                           const AnalysisOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--save-esd ", dir, ": ", ec.message()));
  const std::string model =
      SafeFileName(std::filesystem::path(report.path).filename().string().empty()
                       ? std::filesystem::path(report.path).parent_path().filename().string()
                       : std::filesystem::path(report.path).filename().string());
  std::string json = absl::StrCat("{\"model\": ", JsonString(report.path),
                                  ", \"format\": ", JsonString(report.format),
                                  ", \"options\": ", OptionsJson(options), ", \"layers\": [");
  bool first = true;
  for (const LayerResult& r : report.layers) {
    if (r.evals.empty()) continue;
    std::string file = absl::StrCat(model, ".layer", r.plan.layer_id);
    if (r.slice_id.has_value()) absl::StrAppend(&file, ".slice", *r.slice_id);
    absl::StrAppend(&file, ".", SafeFileName(r.plan.name), ".npy");
    HTSR_RETURN_IF_ERROR(
        WriteFileAtomically((std::filesystem::path(dir) / file).string(), NpyVector(r.evals)));
    absl::StrAppend(&json, first ? "\n  " : ",\n  ", "{\"layer_id\": ", r.plan.layer_id,
                    ", \"name\": ", JsonString(r.plan.name),
                    ", \"tensor_name\": ", JsonString(r.plan.tensor_name),
                    ", \"slice_id\": ", r.slice_id.has_value() ? absl::StrCat(*r.slice_id) : "null",
                    ", \"N\": ", r.plan.N, ", \"M\": ", r.plan.M, ", \"rf\": ", r.plan.rf,
                    ", \"num_evals\": ", r.evals.size(),
                    ", \"lambda_max\": ", JsonNumber(r.evals.back()),
                    ", \"status\": ", JsonString(LayerStatusName(r.status)),
                    ", \"file\": ", JsonString(file), "}");
    first = false;
  }
  absl::StrAppend(&json, first ? "]}\n" : "\n]}\n");
  return WriteFileAtomically((std::filesystem::path(dir) / (model + ".esd.json")).string(), json);
}

}  // namespace htsr::output
