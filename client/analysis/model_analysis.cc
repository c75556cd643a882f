#include "analysis/model_analysis.h"

#include <chrono>
#include <filesystem>

#include "analysis/reader_source.h"
#include "htsr/status_macros.h"
#include "readers/checkpoint_reader.h"

namespace htsr::analysis {

absl::StatusOr<model::ModelReport> AnalyzeCheckpoint(const std::string& path, const Engine& engine,
                                                     const ModelAnalysisOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader, OpenCheckpoint(path));

  const TensorSource source = ReaderSource(*reader);

  // Progress counts the selected layers and their bytes.
  int64_t units = 0, bytes = 0;
  const std::vector<LayerPlan> plans = PlanModel(source.tensors, engine.config().options);
  HTSR_RETURN_IF_ERROR(options.filter.CheckSelectsAny(plans, path));
  for (const LayerPlan& p : plans) {
    if (!options.filter.Selects(p)) continue;
    ++units;
    if (p.analyse) bytes += p.num_evals;  // proportional to cost, not file size
  }
  std::unique_ptr<LayerProgress> progress;
  if (options.progress) {
    progress = options.progress(std::filesystem::path(path).filename().string(), units, bytes);
  }

  ModelCallbacks callbacks;
  callbacks.select = [&options](const LayerPlan& p) { return options.filter.Selects(p); };
  if (progress) {
    callbacks.on_layer = [p = progress.get()](const LayerResult& res) {
      p->Advance(res.plan.analyse ? res.plan.num_evals : 0, res.plan.name);
    };
  }

  model::ModelReport report;
  report.path = path;
  report.format = std::string(reader->Format());
  report.backend = std::string(engine.backend().Name());
  report.bytes = reader->TotalBytes();
  report.notes = reader->Notes();
  report.layers = AnalyzeModel(engine, source, callbacks);
  if (progress) progress->Finish();
  // Rows computed after the file shrank under its mapping were computed from zeros (see
  // readers/mapped_file.h): the checkpoint fails as a whole, naming the file.
  HTSR_RETURN_IF_ERROR(reader->CheckIntact());
  report.summary = Summarize(report.layers);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace htsr::analysis
