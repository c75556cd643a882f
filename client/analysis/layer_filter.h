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
  const std::string& spec() const { return spec_; }

  // An error when the filter is set and selects none of `plans` (the layers of `model`):
  // "--layers 'x' selects none of the 3 layers of m.safetensors (ids 1-3: 1 a, ...)". A
  // typo in --layers must not become an "analysed 0 layers, exit 0" run. A model with no
  // layer at all is not this error (it is an empty model).
  absl::Status CheckSelectsAny(const std::vector<LayerPlan>& plans, absl::string_view model) const;

 private:
  struct Term {
    enum Kind { kIdRange, kType, kName } kind;
    int lo = 0, hi = 0;
    LayerType type = LayerType::kDense;
    std::string pattern;
    bool Matches(const LayerPlan& plan) const;
  };
  std::vector<Term> include_, exclude_;
  std::string spec_;
};

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_LAYER_FILTER_H_
