// gflow/network.hpp: a model instantiated for a scalar type: one allocation each for the
// parameters, their gradients, the two Adam moments, the activations of one sequence and the
// decoding state. A training step (forward, backward, update) allocates nothing.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/kernels.hpp>
#include <gflow/model.hpp>
#include <gflow/optim/adam.hpp>
#include <gflow/random.hpp>

namespace gflow {

// A zero-filled, 64-byte aligned array of scalars, allocated once.
template <class S>
class buffer {
public:
    explicit buffer(std::size_t count)
        : size_(count),
          data_(static_cast<S*>(::operator new[](std::max<std::size_t>(count, 1) * sizeof(S),
                                                 std::align_val_t{64}))) {
        std::fill_n(data_.get(), count, S(0));
    }
    S* data() { return data_.get(); }
    const S* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::span<S> span() { return {data(), size_}; }
    std::span<const S> span() const { return {data(), size_}; }

private:
    struct release {
        void operator()(S* p) const { ::operator delete[](p, std::align_val_t{64}); }
    };
    std::size_t size_;
    std::unique_ptr<S, release> data_;
};

struct sample_options {
    double temperature = 0.5;
};

template <class Model, class S>
class network {
public:
    using model_type = Model;
    using scalar = S;
    using graph = typename Model::graph;
    static constexpr dims config = Model::config;
    static constexpr int V = config.vocab, T = config.block;

    // Every weight ~ Normal(0, init_std^2), drawn in parameter order from `seed`.
    explicit network(std::uint64_t seed, double init_std = 0.08)
        : params_(graph::param_size), grads_(graph::param_size), adam_m_(graph::param_size),
          adam_v_(graph::param_size), acts_(graph::act_size), logits_(std::size_t(T) * V),
          dlogits_(std::size_t(T) * V), state_(graph::state_size), table_(Model::parameters()) {
        rng gen(seed);
        for (auto& w : params_.span()) w = S(init_std * gen.normal());
    }

    std::span<S> parameters() { return params_.span(); }
    std::span<const S> parameters() const { return params_.span(); }
    std::span<const S> gradients() const { return grads_.span(); }
    std::span<S> adam_m() { return adam_m_.span(); }   // Adam's moments, laid out as the parameters
    std::span<S> adam_v() { return adam_v_.span(); }
    std::span<const S> adam_m() const { return adam_m_.span(); }
    std::span<const S> adam_v() const { return adam_v_.span(); }
    const std::vector<param_desc>& parameter_table() const { return table_; }
    // The parameter called `name` (e.g. "layer0.W_red"), or an empty span.
    std::span<S> parameter(std::string_view name) {
        for (const auto& d : table_)
            if (d.name == name) return {params_.data() + d.offset, std::size_t(d.rows) * d.cols};
        return {};
    }

    // Mean cross-entropy over the n = min(T, len-1) predicted tokens of one document.
    S loss(std::span<const int> tokens) {
        const pass p = begin(tokens);
        graph::forward(p, params_.data(), acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        return cross_entropy(p, tokens, false) / S(p.n);
    }
    // Summed loss and the number of predicted tokens (evaluation means per token,
    // docs/benchmarks.md#evaluation-and-sampling).
    std::pair<double, int> loss_sum(std::span<const int> tokens) {
        const pass p = begin(tokens);
        graph::forward(p, params_.data(), acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        return {double(cross_entropy(p, tokens, false)), p.n};
    }
    // Loss and the gradient of every parameter (in gradients()).
    S loss_and_gradient(std::span<const int> tokens) {
        const pass p = begin(tokens);
        S* w = params_.data();
        graph::forward(p, w, acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        const S total = cross_entropy(p, tokens, true);
        kernels::zero(grads_.data(), int(graph::param_size));
        graph::backward(p, w, grads_.data(), acts_.data(), static_cast<const S*>(nullptr),
                        logits_.data(), dlogits_.data(), static_cast<S*>(nullptr));
        return total / S(p.n);
    }
    // One step of training: forward, backward, Adam update. Allocates nothing.
    S train_step(std::span<const int> tokens, const adam& opt, int step) {
        const S l = loss_and_gradient(tokens);
        apply_update(opt, step);
        return l;
    }
    // The Adam update with the gradients of the last loss_and_gradient.
    void apply_update(const adam& opt, int step) {
        opt.update(step, graph::param_size, params_.data(), grads_.data(), adam_m_.data(), adam_v_.data());
    }

    // The logits [n][V] of one document, by the whole-sequence forward pass.
    std::span<const S> logits(std::span<const int> tokens) {
        const pass p = begin(tokens);
        graph::forward(p, params_.data(), acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        return {logits_.data(), std::size_t(p.n) * V};
    }
    // The same logits computed one position at a time by the decoding path (as sampling does);
    // `out` holds [n][V]. Both paths must agree: the tests hold them to it.
    void incremental_logits(std::span<const int> tokens, std::span<S> out) {
        const pass whole = begin(tokens);
        std::fill_n(state_.data(), state_.size(), S(0));
        for (int t = 0; t < whole.n; ++t) {
            const pass p{1, tokens.data() + t, t};
            graph::decode(p, params_.data(), acts_.data(), state_.data(), static_cast<const S*>(nullptr),
                          out.data() + std::size_t(t) * V);
        }
    }

    // Temperature sampling from BOS until BOS or T tokens; returns the tokens without BOS.
    // Decoding runs one position at a time with the state each mixer keeps (a Grassmann layer:
    // its last max(window) reduced vectors; attention: its key/value cache).
    std::vector<int> sample(rng& gen, int bos, sample_options opt = {}) {
        std::vector<int> out;
        int token = bos;
        std::fill_n(state_.data(), state_.size(), S(0));
        for (int t = 0; t < T; ++t) {
            const pass p{1, &token, t};
            graph::decode(p, params_.data(), acts_.data(), state_.data(), static_cast<const S*>(nullptr),
                          logits_.data());
            token = draw(gen, logits_.data(), opt.temperature);
            if (token == bos) break;
            out.push_back(token);
        }
        return out;
    }

private:
    pass begin(std::span<const int> tokens) const {
        if (tokens.size() < 2)
            throw std::invalid_argument("gflow: a document needs at least 2 tokens (BOS and one more)");
        for (int tok : tokens)
            if (tok < 0 || tok >= V)
                throw std::invalid_argument(fmt::format("gflow: token {} is outside the vocabulary [0, {})", tok, V));
        return pass{std::min<int>(T, int(tokens.size()) - 1), tokens.data(), 0};
    }

    // Summed -log softmax(logits[t])[target]; with gradient, dlogits = (softmax - onehot) / n.
    // Each exponential is computed once, into the gradient row, then normalised in place.
    S cross_entropy(const pass& p, std::span<const int> tokens, bool with_gradient) {
        S total = 0;
        S exps[V];   // [V] of one position, when no gradient row is wanted
        for (int t = 0; t < p.n; ++t) {
            const S* row = logits_.data() + t * V;
            S* e = with_gradient ? dlogits_.data() + t * V : exps;
            const int target = tokens[t + 1];
            S max_logit = row[0];
            for (int i = 1; i < V; ++i) max_logit = std::max(max_logit, row[i]);
            S sum = 0;
            for (int i = 0; i < V; ++i) sum += e[i] = std::exp(row[i] - max_logit);
            total += std::log(sum) + max_logit - row[target];
            if (with_gradient) {
                const S scale = S(1) / (sum * S(p.n));
                GFLOW_SIMD
                for (int i = 0; i < V; ++i) e[i] *= scale;
                e[target] -= S(1) / S(p.n);
            }
        }
        return total;
    }

    int draw(rng& gen, const S* logits, double temperature) const {
        double max_logit = -std::numeric_limits<double>::infinity();
        for (int i = 0; i < V; ++i) max_logit = std::max(max_logit, double(logits[i]) / temperature);
        double probs[V];
        double sum = 0;
        for (int i = 0; i < V; ++i) sum += probs[i] = std::exp(double(logits[i]) / temperature - max_logit);
        double u = gen.uniform() * sum;
        for (int i = 0; i < V; ++i) {
            u -= probs[i];
            if (u < 0) return i;
        }
        return V - 1;
    }

    buffer<S> params_, grads_, adam_m_, adam_v_;   // each [param_size], layout: parameter_table()
    buffer<S> acts_;                               // [graph::act_size], the memory plan
    buffer<S> logits_, dlogits_;                   // [T][V]
    buffer<S> state_;                              // [graph::state_size], decoding only
    std::vector<param_desc> table_;
};

template <class S, class Model>
network<Model, S> instantiate(Model, std::uint64_t seed, double init_std = 0.08) {
    return network<Model, S>(seed, init_std);
}

}  // namespace gflow
