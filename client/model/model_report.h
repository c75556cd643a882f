// What the writers print for one analysed model.
#ifndef HTSR_CLIENT_MODEL_MODEL_REPORT_H_
#define HTSR_CLIENT_MODEL_MODEL_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "htsr/layer.h"
#include "htsr/summary.h"

namespace htsr::model {

struct ModelReport {
  std::string path;
  std::string format;               // reader format ("safetensors", ...)
  std::string backend;              // "cpu", "cuda", or "remote <addr>"
  std::vector<LayerResult> layers;  // ordered by layer_id
  ModelSummary summary;
  uint64_t bytes = 0;
  double seconds = 0;
  std::vector<std::string> notes;  // the reader's (CheckpointReader::Notes)
};

}  // namespace htsr::model

#endif  // HTSR_CLIENT_MODEL_MODEL_REPORT_H_
