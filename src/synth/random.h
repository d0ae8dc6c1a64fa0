// Deterministic randomness for the generator: every draw is a function of (seed, what is drawn,
// the row's key), so any row can be re-derived on its own, in any pass, on any run. SplitMix64's
// finaliser mixes the key; the stream then steps through it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace strata::synth {

inline uint64_t Mix(uint64_t x) {  // SplitMix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A stream of draws for one key: (seed, what, id).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t what, uint64_t id) : state_(Mix(Mix(seed ^ Mix(what)) ^ id)) {}
  uint64_t Next() { return Mix(state_++); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Unit() < p; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Next() % N];
  }
  // 1 + a geometric count, so that the mean is `mean` (>= 1).
  int64_t CountWithMean(double mean) {
    if (mean <= 1) return 1;
    return 1 + static_cast<int64_t>(std::floor(std::log(1 - Unit()) / std::log(1 - 1 / mean)));
  }

 private:
  uint64_t state_;
};

}  // namespace strata::synth
