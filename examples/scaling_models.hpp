// The scaling benchmark's models and measurements: one 1-layer model per (mixer, width, length),
// each with the length as its compile-time block size, and the timing of a training step, a
// forward pass and generation. Each translation unit instantiates one mixer at one width.
#pragma once
#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/gflow.hpp>

namespace scaling {
using namespace gflow::terms;

inline constexpr int lengths[] = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
inline constexpr int widths[] = {16, 64};

// The parenthesis model's layer (mixer and FFN, pre-norm residuals) once, at block L and width D.
template <int L, int D>
constexpr auto model(auto mixer) {
    return gflow::model<vocab<3>, block<L>, width<D>>(
        (token_embedding + position_embedding) >> rmsnorm
        >> residual(rmsnorm >> mixer) >> residual(rmsnorm >> ffn<4>(relu))
        >> lm_head);
}
constexpr auto grassmann_mixer = grassmann<4>(offsets<1, 2, 4, 8, 16>);
constexpr auto attention_mixer = attention<4>;

struct settings {
    int max_length = 4096;
    double budget_s = 0.25;       // time spent on repetitions of one measurement (at least min_runs)
    std::function<void(const std::string&)> progress;
};

struct timing {
    std::string mixer;
    int width = 0, length = 0;
    std::size_t params = 0;
    std::size_t activation_bytes = 0;   // the network's activation arena
    double train_us = 0, forward_us = 0;  // medians
    int train_runs = 0, forward_runs = 0;
};

struct generation {
    std::string mixer;
    int width = 0;
    int block = 0;                           // of the model used
    std::size_t state_bytes_allocated = 0;   // what the network reserves for decoding (block size)
    std::vector<int> lengths;                // generated length L
    std::vector<double> us_per_token;        // median time of one token at positions (L/2, L]
    std::vector<std::size_t> state_bytes_used;   // decoding state written after L tokens
};

// The CPU time this thread has used, in seconds. The machine is shared: wall-clock time would
// also count the turns of other processes, CPU time counts only this computation's.
inline double cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Median CPU time of f() in microseconds. Calls are batched so that one timed batch lasts at least
// ~2 ms (a step of a few µs is not timed alone), and batches repeat until the budget is spent,
// at least 3 times (5 when they are short).
template <class F>
std::pair<double, int> median_us(F&& f, double budget_s) {
    double t0 = cpu_seconds();
    f();   // warm-up, and a first estimate
    const double once = cpu_seconds() - t0;
    const int batch = std::max(1, int(std::ceil(2e-3 / std::max(once, 1e-9))));
    const int runs = std::clamp(int(budget_s / std::max(once * batch, 1e-9)), once > 0.05 ? 3 : 5, 51);
    std::vector<double> us;
    for (int r = 0; r < runs; ++r) {
        t0 = cpu_seconds();
        for (int i = 0; i < batch; ++i) f();
        us.push_back((cpu_seconds() - t0) * 1e6 / batch);
    }
    std::nth_element(us.begin(), us.begin() + runs / 2, us.end());
    return {us[runs / 2], runs};
}

// A document of L + 1 predictions' worth of tokens: BOS, L brackets, BOS (n = L positions).
inline std::vector<int> document(int length) {
    std::vector<int> doc{2};
    gflow::rng gen(7);
    for (int i = 0; i < length; ++i) doc.push_back(int(gen.below(2)));
    doc.push_back(2);
    return doc;
}

template <class Model>
timing measure(Model, const std::string& mixer, const settings& s) {
    constexpr int L = Model::config.block, D = Model::config.width;
    if (s.progress) s.progress(fmt::format("{} width {} length {}", mixer, D, L));
    auto net = std::make_unique<gflow::network<Model, float>>(1);
    const auto doc = document(L);
    // lr 0: the update runs at full cost but leaves the weights as initialised, so that every
    // repetition does the same arithmetic (repeated steps on one document would make the model
    // overfit it, and near-zero softmax weights turn into slow subnormal floats)
    const gflow::adam opt{.lr = 0};
    int step = 0;
    timing t{mixer, D, L, Model::parameter_count(), Model::activation_count() * sizeof(float), 0, 0, 0, 0};
    std::tie(t.train_us, t.train_runs) = median_us([&] { net->train_step(doc, opt, step++); }, s.budget_s);
    float sink = 0;
    std::tie(t.forward_us, t.forward_runs) = median_us([&] { sink += net->loss(doc); }, s.budget_s);
    if (!std::isfinite(sink)) throw std::runtime_error(fmt::format("{} width {} length {}: loss is not finite", mixer, D, L));
    return t;
}

// Generation of s.max_length tokens with the model of the longest block, one token at a time by
// the decoding path (as sampling runs; a token's cost does not depend on the block size). For
// each length L: the median over `repeats` generations of the mean CPU time of the tokens at
// positions [L/2, L), and how much of the decoding state holds something after L tokens (the
// state starts filled with a marker; an element counts once decoding has written it).
template <class Model>
generation measure_generation(Model, const std::string& mixer, const settings& s, int repeats = 5) {
    using graph = typename Model::graph;
    constexpr int D = Model::config.width, V = Model::config.vocab;
    const int L = std::min(Model::config.block, s.max_length);
    if (s.progress) s.progress(fmt::format("{} width {}: generating {} tokens", mixer, D, L));
    // weights drawn as a network draws them, without a network's training arenas (gradients,
    // moments: for attention at L = 4096, hundreds of MiB that decoding never touches)
    std::vector<float> w(graph::param_size), acts(graph::act_size), state(graph::state_size), logits(V);
    gflow::rng gen(1);
    for (auto& v : w) v = float(0.08 * gen.normal());
    constexpr float marker = -1.2345e-30f;
    const auto doc = document(L);
    const auto written = [&] {
        return std::size_t(std::count_if(state.begin(), state.end(),
                                         [&](float v) { return std::memcmp(&v, &marker, sizeof v) != 0; }));
    };
    generation g{mixer, D, Model::config.block, graph::state_size * sizeof(float), {}, {}, {}};
    for (int length : lengths)
        if (length <= L) g.lengths.push_back(length);
    // the tokens at positions [length/2, length) of consecutive lengths are consecutive ranges:
    // each is timed as one batch (a token takes under a microsecond, too short to time alone)
    std::vector<std::vector<double>> us(g.lengths.size());
    std::vector<std::size_t> used(g.lengths.size());
    for (int r = 0; r < repeats; ++r) {
        std::fill(state.begin(), state.end(), marker);   // decoding reads only what it wrote
        double t0 = 0;
        std::size_t next = 0;
        for (int t = 0; t < L; ++t) {
            if (t == g.lengths[next] / 2) t0 = cpu_seconds();
            const gflow::pass p{1, doc.data() + t, t};
            graph::decode(p, w.data(), acts.data(), state.data(), static_cast<const float*>(nullptr),
                          logits.data());
            if (t + 1 == g.lengths[next]) {
                us[next].push_back((cpu_seconds() - t0) * 1e6 / (g.lengths[next] - g.lengths[next] / 2));
                if (r == 0) used[next] = written();
                ++next;
            }
        }
    }
    for (std::size_t i = 0; i < g.lengths.size(); ++i) {
        std::nth_element(us[i].begin(), us[i].begin() + repeats / 2, us[i].end());
        g.us_per_token.push_back(us[i][std::size_t(repeats / 2)]);
        g.state_bytes_used.push_back(used[i] * sizeof(float));
    }
    for (float v : logits)
        if (!std::isfinite(v)) throw std::runtime_error(fmt::format("{} width {}: generation is not finite", mixer, D));
    return g;
}

// Every length up to s.max_length, for one mixer at width D (one translation unit each).
template <int D, int... Ls>
std::vector<timing> measure_lengths(auto mixer, const std::string& name, const settings& s) {
    std::vector<timing> out;
    ((Ls <= s.max_length ? out.push_back(measure(model<Ls, D>(mixer), name, s)) : void()), ...);
    return out;
}

struct results {
    std::vector<timing> timings;
    generation generated;
};
results grassmann_16(const settings&);
results grassmann_64(const settings&);
results attention_16(const settings&);
results attention_64(const settings&);

}  // namespace scaling
