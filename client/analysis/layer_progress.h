// How the pipeline reports a model's progress without knowing who shows it: the CLI draws
// a bar on a terminal (cli/progress_bar.h), a scan draws its own line per checkpoint and
// passes none. Keeps the analysis layer free of terminal code.
#ifndef HTSR_CLIENT_ANALYSIS_LAYER_PROGRESS_H_
#define HTSR_CLIENT_ANALYSIS_LAYER_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace htsr::analysis {

// Progress of one model's layers. Advance is called from engine worker threads.
class LayerProgress {
 public:
  virtual ~LayerProgress() = default;
  // One more layer done; `cost` its share of the total (eigenvalue count), `layer` its name.
  virtual void Advance(int64_t cost, const std::string& layer) = 0;
  virtual void Finish() = 0;
};

// One LayerProgress per model: `label` (the file name), `layers` selected, `total_cost`.
// An empty factory means no progress is shown.
using LayerProgressFactory = std::function<std::unique_ptr<LayerProgress>(
    const std::string& label, int64_t layers, int64_t total_cost)>;

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_LAYER_PROGRESS_H_
