// The --layers selection: a comma list of layer ids (3), id ranges (2-5), layer types
// (dense, conv1d, conv2d), or names (substring, or a glob with * and ?). A term prefixed
// with '!' (or a negative id, as the reference's layers=[-3]) excludes. With no positive
// term every layer is included before exclusions.
#ifndef HTSR_CLIENT_ANALYSIS_LAYER_FILTER_H_
#define HTSR_CLIENT_ANALYSIS_LAYER_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/layer.h"

namespace htsr::analysis {

class LayerFilter {
 public:
  // Empty spec selects everything.
  static absl::StatusOr<LayerFilter> Parse(const std::string& spec);
  bool Selects(const LayerPlan& plan) const;
  bool empty() const { return include_.empty() && exclude_.empty(); }

 private:
  struct Term {
    enum Kind { kIdRange, kType, kName } kind;
    int lo = 0, hi = 0;
    LayerType type = LayerType::kDense;
    std::string pattern;
    bool Matches(const LayerPlan& plan) const;
  };
  std::vector<Term> include_, exclude_;
};

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_LAYER_FILTER_H_
