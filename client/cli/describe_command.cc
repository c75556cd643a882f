// htsr describe PATH... : what analyze would do, from metadata alone (no weight is read).
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "analysis/tensor_roles.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "htsr/base/text_escape.h"
#include "output/json_writer.h"
#include "readers/checkpoint_reader.h"
#include "scan/scan_inputs.h"

namespace htsr::cli {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

int RunDescribe(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& out = inv.out;
  std::ostream& err = inv.err;
  auto config = EngineConfigFromArgs(args);
  auto filter = LayerFilterFromArgs(args);
  for (const absl::Status& s : {config.status(), filter.status()}) {
    if (!s.ok()) {
      err << "htsr describe: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  bool unreadable = false;
  if (format == "csv")
    out << "model,layer_id,name,tensor,dtype,shape,layer_type,N,M,rf,num_evals,action,reason\n";
  if (format == "json") out << "{\"models\": [";
  bool first_model = true;
  // A folder of checkpoints is every model in it (scan's rule); one summary each.
  absl::StatusOr<std::vector<std::string>> paths = scan::ExpandModelPaths(args.positionals());
  if (!paths.ok()) return inv.UsageError(paths.status().message());
  for (const std::string& path : *paths) {
    auto reader = OpenCheckpoint(path);
    if (!reader.ok()) {
      err << "htsr describe: " << reader.status().message() << "\n";
      unreadable = true;
      continue;
    }
    for (const std::string& n : (*reader)->Notes()) err << "htsr: note: " << n << "\n";
    const auto& tensors = (*reader)->Tensors();
    std::vector<size_t> index;
    const auto plans = PlanModel(tensors, config->options, &index);
    if (absl::Status s = filter->CheckSelectsAny(plans, path); !s.ok()) {
      err << "htsr describe: " << s.message() << "\n";
      unreadable = true;
      continue;
    }
    const std::vector<analysis::NonLayerTensor> others =
        analysis::TensorsNotLayers(tensors, config->options);
    int analysed = 0, skipped = 0;
    if (format == "table") {
      out << absl::StrFormat("%s  (%s, %d tensors)\n\n", path, (*reader)->Format(), tensors.size());
      out << absl::StrFormat("%4s  %-40s  %-5s  %-20s  %-6s  %13s  %3s  %9s  %s\n", "id", "name",
                             "dtype", "shape", "type", "N x M", "rf", "num_evals", "action");
    }
    if (format == "json") {
      out << (first_model ? "\n" : ",\n") << "  {\"path\": " << output::JsonString(path)
          << ", \"format\": " << output::JsonString((*reader)->Format()) << ", \"layers\": [";
    }
    bool first_layer = true;
    for (size_t i = 0; i < plans.size(); ++i) {
      const LayerPlan& p = plans[i];
      if (!filter->Selects(p)) continue;
      const TensorInfo& t = tensors[index[i]];
      (p.analyse ? analysed : skipped)++;
      const std::string action = p.analyse ? "analyse" : "skip";
      const std::string type(LayerTypeName(p.type));
      if (format == "table") {
        out << absl::StrFormat("%4d  %-40s  %-5s  %-20s  %-6s  %13s  %3d  %9d  %s\n", p.layer_id,
                               p.name, DTypeName(t.dtype), ShapeText(t.shape), type,
                               absl::StrCat(p.N, " x ", p.M), p.rf, p.num_evals,
                               p.analyse ? action : absl::StrCat("skip: ", p.skip_reason));
      } else if (format == "csv") {
        out << absl::StrCat(path, ",", p.layer_id, ",", p.name, ",", t.name, ",",
                            std::string(DTypeName(t.dtype)), ",\"", ShapeText(t.shape), "\",", type,
                            ",", p.N, ",", p.M, ",", p.rf, ",", p.num_evals, ",", action, ",\"",
                            p.skip_reason, "\"\n");
      } else {
        out << (first_layer ? "\n" : ",\n") << "    {\"layer_id\": " << p.layer_id
            << ", \"name\": " << output::JsonString(p.name)
            << ", \"tensor\": " << output::JsonString(t.name)
            << ", \"dtype\": " << output::JsonString(DTypeName(t.dtype)) << ", \"shape\": ["
            << absl::StrJoin(t.shape, ", ") << "], \"layer_type\": " << output::JsonString(type)
            << ", \"N\": " << p.N << ", \"M\": " << p.M << ", \"rf\": " << p.rf
            << ", \"num_evals\": " << p.num_evals << ", \"action\": " << output::JsonString(action)
            << ", \"reason\": " << output::JsonString(p.skip_reason) << "}";
        first_layer = false;
      }
    }
    // Every tensor that is not a layer, with the reason: "0 layers" must say why.
    if (format == "table") {
      if (!others.empty()) {
        out << "\nnot layers:\n";
        for (const analysis::NonLayerTensor& o : others) {
          const TensorInfo& t = tensors[o.index];
          out << absl::StrFormat("      %-40s  %-5s  %-20s  %s\n", t.name, DTypeName(t.dtype),
                                 ShapeText(t.shape), o.reason);
        }
      }
      out << absl::StrFormat(
          "\n%d layers to analyse, %d to skip; %d other tensors are not layers\n", analysed,
          skipped, others.size());
      if (analysed == 0) {
        out << "nothing to analyse: 'htsr analyze' would report this model as empty (no "
               "summary values)\n";
      }
    } else if (format == "csv") {
      for (const analysis::NonLayerTensor& o : others) {
        const TensorInfo& t = tensors[o.index];
        out << absl::StrCat(CsvField(path), ",,,", CsvField(t.name), ",",
                            std::string(DTypeName(t.dtype)), ",\"", ShapeText(t.shape),
                            "\",,,,,,not a layer,", CsvField(o.reason), "\n");
      }
    } else {
      out << "], \"not_layers\": [";
      for (size_t k = 0; k < others.size(); ++k) {
        const TensorInfo& t = tensors[others[k].index];
        out << (k ? ",\n    " : "\n    ") << "{\"tensor\": " << output::JsonString(t.name)
            << ", \"dtype\": " << output::JsonString(DTypeName(t.dtype)) << ", \"shape\": ["
            << absl::StrJoin(t.shape, ", ")
            << "], \"reason\": " << output::JsonString(others[k].reason) << "}";
      }
    }
    if (format == "json") out << "]}";
    first_model = false;
  }
  if (format == "json") out << "\n]}\n";
  return unreadable ? kExitUsage : kExitOk;
}

}  // namespace htsr::cli
