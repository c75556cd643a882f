#include "server/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace htsr::server {
namespace {

// Label values come from token files and gRPC: escape as the exposition format requires.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return absl::StrFormat("%.17g", v);
}

void Header(std::string* out, const std::string& name, const char* type, const std::string& help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

void ServerMetrics::Histogram::Observe(double v) {
  size_t i = 0;
  while (i < kBuckets.size() && v > kBuckets[i]) ++i;
  ++counts[i];
  ++count;
  sum += v;
}

void ServerMetrics::Observe(Stage stage, double seconds) {
  absl::MutexLock lock(&mu_);
  stages_[stage].Observe(seconds);
}

void ServerMetrics::AddGauge(Gauge gauge) {
  absl::MutexLock lock(&mu_);
  gauges_.push_back(std::move(gauge));
}

void ServerMetrics::AddGaugeFamily(GaugeFamily family) {
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
}

void ServerMetrics::CallStarted(const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  ++tenants_[tenant].started;
}

void ServerMetrics::CallFinished(const std::string& tenant, const CallRecord& r, bool admitted) {
  absl::MutexLock lock(&mu_);
  TenantCounters& t = tenants_[tenant];
  if (!admitted) ++t.started;
  ++t.finished[r.code];
  t.bytes += r.bytes;
  t.tensors += static_cast<uint64_t>(r.tensors);
  t.layers += static_cast<uint64_t>(r.layers);
  if (admitted) {
    stages_[kCall].Observe(r.seconds);
    if (r.tensors > 0) stages_[kReceive].Observe(r.receive_seconds);
  }
}

std::string ServerMetrics::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  auto per_tenant = [&](const char* name, const char* help, uint64_t TenantCounters::*field) {
    Header(&out, name, "counter", help);
    for (const auto& [tenant, c] : tenants_) {
      absl::StrAppend(&out, name, "{tenant=\"", Label(tenant), "\"} ", c.*field, "\n");
    }
  };
  per_tenant("htsr_calls_started_total", "Analyze calls received (refused ones included)",
             &TenantCounters::started);
  Header(&out, "htsr_calls_finished_total", "counter", "Analyze calls ended, by gRPC status code");
  for (const auto& [tenant, c] : tenants_) {
    for (const auto& [code, n] : c.finished) {
      absl::StrAppend(&out, "htsr_calls_finished_total{tenant=\"", Label(tenant), "\",code=\"",
                      code, "\"} ", n, "\n");
    }
  }
  Header(&out, "htsr_errors_total", "counter", "Analyze calls that ended with an error, by code");
  for (const auto& [tenant, c] : tenants_) {
    for (const auto& [code, n] : c.finished) {
      if (code == "OK") continue;
      absl::StrAppend(&out, "htsr_errors_total{tenant=\"", Label(tenant), "\",code=\"", code,
                      "\"} ", n, "\n");
    }
  }
  per_tenant("htsr_received_bytes_total", "tensor bytes received", &TenantCounters::bytes);
  per_tenant("htsr_tensors_received_total", "tensors received", &TenantCounters::tensors);
  per_tenant("htsr_layers_analyzed_total", "layer rows sent back", &TenantCounters::layers);

  static constexpr const char* kStageNames[] = {"receive", "queue_wait", "solve"};
  Header(&out, "htsr_stage_seconds", "histogram",
         "latency per stage: receive (first chunk to last byte of a call), queue_wait (a "
         "layer queued until a worker takes it), solve (a layer on a worker)");
  auto histogram = [&](const std::string& name, const std::string& labels, const Histogram& h) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      const std::string le = i < kBuckets.size() ? absl::StrCat(kBuckets[i]) : "+Inf";
      absl::StrAppend(&out, name, "_bucket{", labels, labels.empty() ? "" : ",", "le=\"", le,
                      "\"} ", cumulative, "\n");
    }
    const std::string l = labels.empty() ? "" : absl::StrCat("{", labels, "}");
    absl::StrAppend(&out, name, "_sum", l, " ", Number(h.sum), "\n", name, "_count", l, " ",
                    h.count, "\n");
  };
  for (int s = 0; s < 3; ++s) {
    histogram("htsr_stage_seconds", absl::StrCat("stage=\"", kStageNames[s], "\""), stages_[s]);
  }
  Header(&out, "htsr_call_seconds", "histogram", "duration of admitted Analyze calls");
  histogram("htsr_call_seconds", "", stages_[kCall]);

  for (const Gauge& g : gauges_) {
    Header(&out, g.name, "gauge", g.help);
    absl::StrAppend(&out, g.name, " ", Number(g.value()), "\n");
  }
  for (const GaugeFamily& f : families_) {
    Header(&out, f.name, "gauge", f.help);
    for (const auto& [label, v] : f.values()) {
      absl::StrAppend(&out, f.name, "{", f.label, "=\"", Label(label), "\"} ", Number(v), "\n");
    }
  }
  return out;
}

}  // namespace htsr::server
