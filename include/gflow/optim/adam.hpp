// gflow/optim/adam.hpp: Adam with bias correction and linear learning-rate decay
// (docs/benchmarks.md#training-schedule):
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr_s m̂ / (sqrt(v̂) + eps),
//   m̂ = m / (1 - b1^(s+1)),  v̂ = v / (1 - b2^(s+1)),  lr_s = lr (1 - s / decay_steps).
// One fused pass over parameters, gradients and both moments.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>

#include <gflow/core/kernels.hpp>
#include <gflow/core/parallel.hpp>

namespace gflow {

struct adam {
    double lr = 0.01;
    double beta1 = 0.85;
    double beta2 = 0.99;
    double epsilon = 1e-8;
    int decay_steps = 0;   // 0: no decay

    double rate_at(int step) const {
        return decay_steps > 0 ? lr * (1.0 - double(step) / double(decay_steps)) : lr;
    }

    template <class S>
    void update(int step, std::size_t count, S* __restrict w, const S* __restrict g, S* __restrict m,
                S* __restrict v) const {
        const S b1 = S(beta1), b2 = S(beta2), eps = S(epsilon);
        const S m_scale = S(1.0 / (1.0 - std::pow(beta1, step + 1)));
        const S v_scale = S(1.0 / (1.0 - std::pow(beta2, step + 1)));
        const S rate = S(rate_at(step));
        // Each parameter's update is its own: spread over the threads in chunks.
        constexpr std::size_t chunk = 8192;
        const int chunks = int((count + chunk - 1) / chunk);
        parallel::for_each(chunks, long(count) * 8, [=](int c) {
            const std::size_t end = std::min(count, std::size_t(c + 1) * chunk);
            GFLOW_SIMD
            for (std::size_t i = std::size_t(c) * chunk; i < end; ++i) {
                m[i] = b1 * m[i] + (S(1) - b1) * g[i];
                v[i] = b2 * v[i] + (S(1) - b2) * g[i] * g[i];
                w[i] -= rate * (m[i] * m_scale) / (std::sqrt(v[i] * v_scale) + eps);
            }
        });
    }
};

}  // namespace gflow
