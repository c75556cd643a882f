#include "model/diagnostics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace htsr::model {
namespace {

std::string IdList(const std::vector<int>& ids) {
  constexpr size_t kShown = 12;
  std::vector<int> shown(ids.begin(), ids.begin() + std::min(ids.size(), kShown));
  std::string s = absl::StrJoin(shown, ", ");
  if (ids.size() > kShown) absl::StrAppend(&s, ", ... (", ids.size() - kShown, " more)");
  return s;
}

}  // namespace

bool MpFitIsMeaningful(const LayerResult& layer, int64_t spikes) {
  int64_t n = layer.plan.num_evals;
  if (n <= 0) n = std::min(layer.plan.N, layer.plan.M) * std::max<int64_t>(layer.plan.rf, 1);
  if (n < kMinMpEigenvalues) return false;
  return static_cast<double>(spikes) <= kMaxMpSpikeFraction * static_cast<double>(n);
}

ModelDiagnostics DiagnoseLayers(const std::vector<LayerResult>& layers,
                                const DiagnosticThresholds& t) {
  ModelDiagnostics d;
  double alpha_sum = 0;
  std::vector<double> alphas;
  for (const LayerResult& l : layers) {
    if (l.num_traps || l.rand_num_spikes) {
      d.traps_checked = true;
      const int64_t traps = l.num_traps.value_or(l.rand_num_spikes.value_or(0));
      if (!MpFitIsMeaningful(l, traps)) {
        d.trap_no_verdict.push_back(l.plan.layer_id);
      } else if (traps > 0) {
        d.trap_layers.push_back(l.plan.layer_id);
        d.total_traps += traps;
      }
    }
    if (l.status == LayerStatus::kFailed) ++d.failed;
    if (l.status != LayerStatus::kSuccess) continue;
    ++d.analysed;
    alpha_sum += l.alpha;
    alphas.push_back(l.alpha);
    if (l.alpha > t.alpha_high) d.under_trained.push_back(l.plan.layer_id);
    if (l.alpha < t.alpha_low) d.over_trained.push_back(l.plan.layer_id);
  }
  if (d.analysed > 0) {
    d.mean_alpha = alpha_sum / static_cast<double>(d.analysed);
    std::sort(alphas.begin(), alphas.end());
    const size_t n = alphas.size();
    d.median_alpha = n % 2 ? alphas[n / 2] : 0.5 * (alphas[n / 2 - 1] + alphas[n / 2]);
    d.poorly_trained = 2 * d.under_trained.size() > static_cast<size_t>(d.analysed) &&
                       d.median_alpha > t.alpha_high;
  }
  return d;
}

std::optional<ScaleCollapse> CompareScale(const ModelRecord& model, const ModelRecord& reference,
                                          const DiagnosticThresholds& t) {
  const auto n1 = model.Metric("log_norm"), n0 = reference.Metric("log_norm");
  const auto s1 = model.Metric("log_spectral_norm"), s0 = reference.Metric("log_spectral_norm");
  const auto a1 = model.Metric("alpha"), a0 = reference.Metric("alpha");
  if (!n1 || !n0 || !s1 || !s0 || !a1 || !a0) return std::nullopt;
  ScaleCollapse c;
  c.model = model.name;
  c.reference = reference.name;
  c.d_log_norm = *n1 - *n0;
  c.d_log_spectral_norm = *s1 - *s0;
  c.d_alpha = *a1 - *a0;
  c.collapsed = c.d_log_norm < -t.norm_drop && c.d_log_spectral_norm < -t.norm_drop &&
                c.d_alpha >= -t.alpha_tolerance;
  return c;
}

bool SameArchitecture(const ModelRecord& a, const ModelRecord& b) {
  if (!a.has_layers || !b.has_layers) return false;
  auto shapes = [](const ModelRecord& m) {
    std::vector<std::pair<int64_t, int64_t>> v;
    for (const LayerResult& l : m.report.layers) {
      if (l.status == LayerStatus::kSuccess) v.emplace_back(l.plan.N, l.plan.M);
    }
    return v;
  };
  const auto sa = shapes(a);
  return !sa.empty() && sa == shapes(b);
}

std::vector<ScaleCollapse> FindScaleCollapse(const std::vector<ModelRecord>& records,
                                             bool target_is_error, const DiagnosticThresholds& t) {
  std::vector<ScaleCollapse> out;
  for (const ModelRecord& m : records) {
    if (m.IsEmpty()) continue;
    for (const ModelRecord& ref : records) {
      if (&m == &ref || ref.IsEmpty()) continue;
      // A model and its copy in another series, or two rows of one input, are one model.
      if (m.source == ref.source && m.report.path == ref.report.path) continue;
      // Comparable: the same series (the user grouped them), or, where either has none,
      // one architecture (the same analysed layer shapes: checkpoints of a run, base vs
      // fine-tuned). Never across series or architectures.
      const bool same_series = !m.series.empty() && m.series == ref.series;
      if (!m.series.empty() && !ref.series.empty() && m.series != ref.series) continue;
      if (!same_series && !SameArchitecture(m, ref)) continue;
      // With accuracies for both, they decide: a better model whose norms fall is simply
      // better (batch norm, more depth). Without, only one architecture is comparable.
      if (m.target && ref.target) {
        const bool worse = target_is_error ? *m.target > *ref.target : *m.target < *ref.target;
        if (!worse) continue;
      } else if (!SameArchitecture(m, ref)) {
        continue;
      }
      auto c = CompareScale(m, ref, t);
      if (!c || !c->collapsed) continue;
      c->series = same_series ? m.series : "";
      // The same pair in several series (a model listed in each) is one finding.
      bool merged = false;
      for (ScaleCollapse& o : out) {
        if (o.model == c->model && o.reference == c->reference) {
          if (!c->series.empty())
            absl::StrAppend(&o.series, o.series.empty() ? "" : ", ", c->series);
          merged = true;
        }
      }
      if (!merged) out.push_back(*c);
    }
  }
  return out;
}

std::vector<std::string> DiagnosticWarnings(const ModelDiagnostics& d,
                                            const DiagnosticThresholds& t) {
  std::vector<std::string> w;
  // "1 of 6 layers has ... (layer 6)", "2 of 6 layers have ... (layers 3, 4)".
  auto verb = [](size_t n) { return n == 1 ? "has" : "have"; };
  auto ids = [](const std::vector<int>& v) {
    return absl::StrCat(v.size() == 1 ? "layer " : "layers ", IdList(v));
  };
  if (d.analysed == 0) {
    w.push_back("No layer could be analysed, so nothing can be said about this model.");
    return w;
  }
  if (!d.under_trained.empty()) {
    w.push_back(absl::StrFormat(
        "%d of %d layers %s alpha above %g (%s). Their eigenvalue spectra look close to "
        "those of random matrices: these layers learned little structure, as in an "
        "under-trained network or layers that training barely moved.",
        d.under_trained.size(), d.analysed, verb(d.under_trained.size()), t.alpha_high,
        ids(d.under_trained)));
  }
  if (!d.over_trained.empty()) {
    w.push_back(absl::StrFormat(
        "%d of %d layers %s alpha below %g (%s). A few very large eigenvalues dominate "
        "these layers: a sign of over-fitting, or of a layer driven by a handful of spikes.",
        d.over_trained.size(), d.analysed, verb(d.over_trained.size()), t.alpha_low,
        ids(d.over_trained)));
  }
  if (d.poorly_trained) {
    w.push_back(absl::StrFormat(
        "%d of %d layers are under-trained and the median alpha is %.2f: the model as a whole "
        "looks poorly trained.",
        d.under_trained.size(), d.analysed, d.median_alpha));
  }
  if (d.failed > 0) {
    w.push_back(absl::StrFormat("%d layers could not be fitted; they are left out of the averages.",
                                d.failed));
  }
  if (d.traps_checked && !d.trap_layers.empty()) {
    w.push_back(absl::StrFormat(
        "%d %s correlation traps (%d in total; %s): even after their "
        "weights were shuffled, eigenvalues stand out of the random bulk, so a few unusually "
        "large weights dominate them. Such layers can come from too large a learning rate and "
        "can distort their alpha.",
        d.trap_layers.size(), d.trap_layers.size() == 1 ? "layer contains" : "layers contain",
        d.total_traps, ids(d.trap_layers)));
  }
  if (d.traps_checked && !d.trap_no_verdict.empty()) {
    w.push_back(absl::StrFormat(
        "No correlation-trap verdict for %d %s (%s): the Marchenko-Pastur fit found no random "
        "bulk there (fewer than %d eigenvalues, or more than %.0f%% of them outside the bulk).",
        d.trap_no_verdict.size(), d.trap_no_verdict.size() == 1 ? "layer" : "layers",
        ids(d.trap_no_verdict), kMinMpEigenvalues, 100 * kMaxMpSpikeFraction));
  }
  return w;
}

std::string DescribeScaleCollapse(const ScaleCollapse& c) {
  return absl::StrFormat(
      "%s%s shows scale collapse against %s: log norm %+.2f and log spectral norm %+.2f fall, "
      "while alpha does not (%+.2f). Norm metrics would call %s better; its alpha says it is "
      "not better trained, as for poorly trained or distilled models in the paper.",
      c.series.empty() ? "" : absl::StrCat("[", c.series, "] "), c.model, c.reference, c.d_log_norm,
      c.d_log_spectral_norm, c.d_alpha, c.model);
}

}  // namespace htsr::model
