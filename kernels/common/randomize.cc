// Seeded element shuffle and the reference's Jensen-Shannon distance.
#include "htsr/randomize.h"

#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "htsr/metrics.h"

namespace htsr {

void ShuffleElements(std::span<float> w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = w.size(); i > 1; --i) {
    std::uniform_int_distribution<size_t> pick(0, i - 1);
    std::swap(w[i - 1], w[pick(rng)]);
  }
}

namespace {

// scipy.special.rel_entr summed: x log(x/y); 0 when x == 0; inf when y == 0 < x.
double KlDivergence(const std::vector<double>& p, const std::vector<double>& q) {
  std::vector<double> terms(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      terms[i] = 0;
    } else if (q[i] <= 0 || p[i] < 0) {
      terms[i] = std::numeric_limits<double>::infinity();
    } else {
      terms[i] = p[i] * std::log(p[i] / q[i]);
    }
  }
  return AccurateSum(terms);
}

std::vector<double> Normalised(std::span<const double> v) {
  const double s = AccurateSum(v);
  std::vector<double> out(v.begin(), v.end());
  for (double& x : out) x /= s;
  return out;
}

}  // namespace

double JensenShannonDistance(std::span<const double> p, std::span<const double> q) {
  if (p.size() != q.size() || p.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> m(p.size());
  for (size_t i = 0; i < p.size(); ++i) m[i] = (p[i] + q[i]) / 2;
  const std::vector<double> pn = Normalised(p), qn = Normalised(q), mn = Normalised(m);
  return std::sqrt((KlDivergence(pn, mn) + KlDivergence(qn, mn)) / 2);
}

}  // namespace htsr
