// The `randomize` analysis (reference apply_random_esd): element-shuffled weights and the
// Jensen-Shannon distance between the original and the randomized spectra.
#ifndef HTSR_RANDOMIZE_H_
#define HTSR_RANDOMIZE_H_

#include <cstdint>
#include <span>

namespace htsr {

// Fisher-Yates shuffle of all elements with a seeded mt19937_64 (the reference uses
// np.random.shuffle unseeded, so only the distribution of results can match).
void ShuffleElements(std::span<float> w, uint64_t seed);

// The reference's jensen_shannon_distance(p, q): the two eigenvalue ARRAYS (same length,
// both ascending) are treated as discrete distributions as scipy.stats.entropy does
// (each normalised to sum 1, natural log): sqrt((KL(p||m) + KL(q||m)) / 2), m = (p+q)/2.
double JensenShannonDistance(std::span<const double> p, std::span<const double> q);

}  // namespace htsr

#endif  // HTSR_RANDOMIZE_H_
