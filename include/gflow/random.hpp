// gflow/random.hpp: a small, seedable generator whose output is the same on every platform and
// standard library (std::normal_distribution is not), so that the same seed gives the same
// weights, the same shuffle and the same samples, bit for bit.
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <utility>

namespace gflow {

class rng {   // xoshiro256** seeded through splitmix64
public:
    explicit rng(std::uint64_t seed) {
        for (auto& word : s_) {
            seed += 0x9E3779B97F4A7C15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            word = z ^ (z >> 31);
        }
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }   // [0, 1)
    std::uint64_t below(std::uint64_t bound) {                       // [0, bound), unbiased
        const std::uint64_t limit = -bound % bound;
        for (;;) {
            const std::uint64_t x = next();
            if (x >= limit) return x % bound;
        }
    }
    double normal() {   // Box-Muller; one of the pair is dropped to keep the stream simple
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    template <class T>
    void shuffle(std::span<T> items) {   // Fisher-Yates
        for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace gflow
