// Prometheus metrics of the server (text exposition format 0.0.4), served on
// --metrics-listen by metrics_http.*. Counters and histograms are updated by the service
// (admission), the reactors (a call's end) and the workers (queue wait, solve); gauges are
// read from their owners when scraped. Labels: tenant (server/tenants.h), gRPC code name.
#ifndef HTSR_SERVER_METRICS_H_
#define HTSR_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/call_log.h"

namespace htsr::server {

class ServerMetrics {
 public:
  // Upper bounds (seconds) of the latency histograms' buckets; +Inf is implicit.
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25,
                                                      0.5,   1,     2.5,  10,   60,  600};

  // Gauges read at scrape time: (name, help, value) triples.
  struct Gauge {
    std::string name;
    std::string help;
    std::function<double()> value;
  };
  void AddGauge(Gauge gauge);
  // A labelled gauge family read at scrape time: value per label value (e.g. per tenant).
  struct GaugeFamily {
    std::string name;
    std::string help;
    std::string label;
    std::function<std::vector<std::pair<std::string, double>>()> values;
  };
  void AddGaugeFamily(GaugeFamily family);

  void CallStarted(const std::string& tenant);
  // A call's end, admitted or refused at admission (then started is counted here too).
  void CallFinished(const std::string& tenant, const CallRecord& record, bool admitted);
  void QueueWait(double seconds) { Observe(kQueueWait, seconds); }
  void Solve(double seconds) { Observe(kSolve, seconds); }

  // The whole exposition (text/plain; version=0.0.4).
  std::string Render() const;

 private:
  enum Stage { kReceive = 0, kQueueWait = 1, kSolve = 2, kCall = 3, kStages = 4 };
  struct Histogram {
    std::array<uint64_t, kBuckets.size() + 1> counts{};
    uint64_t count = 0;
    double sum = 0;
    void Observe(double v);
  };
  struct TenantCounters {
    uint64_t started = 0;
    std::map<std::string, uint64_t> finished;  // by code
    uint64_t bytes = 0;
    uint64_t tensors = 0;
    uint64_t layers = 0;
  };
  void Observe(Stage stage, double seconds);

  mutable absl::Mutex mu_;
  std::map<std::string, TenantCounters> tenants_ ABSL_GUARDED_BY(mu_);
  std::array<Histogram, kStages> stages_ ABSL_GUARDED_BY(mu_);
  std::vector<Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<GaugeFamily> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_METRICS_H_
