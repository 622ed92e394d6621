// Deterministic random numbers for trace generation: integer arithmetic only
// (no libm, no std:: distributions, whose results differ between library
// implementations), so one seed gives one trace on every machine.
#ifndef ALLOCBENCH_WORKLOADS_RNG_H_
#define ALLOCBENCH_WORKLOADS_RNG_H_

#include <cstdint>

namespace allocbench {

// splitmix64 step: a good 64-bit mixer for deriving seeds.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a over a string, for mixing names into seeds.
inline uint64_t hash_string(const char* s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s != '\0'; ++s) {
    h ^= static_cast<unsigned char>(*s);
    h *= 0x100000001b3ull;
  }
  return h;
}

// xoshiro256** generator. Not thread-safe; one per generating thread.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& word : s_) {
      x = mix64(x);
      word = x;
    }
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for
  // the n used here, and identical on every platform).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

  // Uniform in [lo, hi], lo <= hi.
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

  // True with probability num/den.
  bool chance(uint64_t num, uint64_t den) { return below(den) < num; }

  // Log-uniform in [lo, hi] (lo >= 1): a power-of-two band chosen uniformly,
  // then a uniform value inside the band, clipped to [lo, hi].
  uint64_t log_uniform(uint64_t lo, uint64_t hi) {
    int e_lo = 63 - __builtin_clzll(lo);
    int e_hi = 63 - __builtin_clzll(hi);
    int e = e_lo + static_cast<int>(below(static_cast<uint64_t>(e_hi - e_lo + 1)));
    uint64_t band_lo = uint64_t{1} << e;
    uint64_t band_hi = e >= 63 ? UINT64_MAX : (uint64_t{1} << (e + 1)) - 1;
    if (band_lo < lo) band_lo = lo;
    if (band_hi > hi) band_hi = hi;
    return range(band_lo, band_hi);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];  // Generator state.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_RNG_H_
