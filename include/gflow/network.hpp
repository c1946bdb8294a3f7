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
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <gflow/core/exp.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/core/simd.hpp>
#include <gflow/model.hpp>
#include <gflow/optim/adam.hpp>
#include <gflow/random.hpp>

namespace gflow {

// A zero-filled, 64-byte aligned array of scalars, allocated once. One of 2 MiB or more is
// aligned to 2 MiB and, on Linux, asks for transparent huge pages (madvise, before the first
// touch): a step reads the activations, the per-document gradients and attention's weights
// [H][T][T] far apart, and on 4 KiB pages every 4 KiB of them costs a page walk.
template <class S>
class buffer {
public:
    explicit buffer(std::size_t count)
        : size_(count), alignment_(alignment_for(count * sizeof(S))),
          data_(static_cast<S*>(::operator new[](rounded(count * sizeof(S), alignment_), alignment_)),
                release{alignment_}) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (std::size_t(alignment_) == huge_page)
            ::madvise(data_.get(), rounded(count * sizeof(S), alignment_), MADV_HUGEPAGE);   // a hint: may fail
#endif
        std::fill_n(data_.get(), count, S(0));
    }
    S* data() { return data_.get(); }
    const S* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::span<S> span() { return {data(), size_}; }
    std::span<const S> span() const { return {data(), size_}; }

private:
    static constexpr std::size_t huge_page = std::size_t(2) << 20;
    static std::align_val_t alignment_for(std::size_t bytes) {
        return std::align_val_t{bytes >= huge_page ? huge_page : 64};
    }
    static std::size_t rounded(std::size_t bytes, std::align_val_t alignment) {
        const std::size_t a = std::size_t(alignment);
        return (std::max<std::size_t>(bytes, 1) + a - 1) / a * a;
    }
    struct release {
        std::align_val_t alignment;
        void operator()(S* p) const { ::operator delete[](p, alignment); }
    };
    std::size_t size_;
    std::align_val_t alignment_;
    std::unique_ptr<S, release> data_;
};

using document = std::vector<int>;   // [BOS, tokens..., BOS]

struct sample_options {
    double temperature = 0.5;
    int length = 0;               // the most tokens drawn (0: the block size; more is cut to it)
    bool stop_at_start = true;    // stop when the start token comes again (BOS ends a document)
};

// How a training step on a batch of documents is spread over the threads (core/parallel.hpp).
// Either way the loss and the weights are the same, bit for bit, at any thread count; the two
// schedules differ from each other only in the order of sums (rounding).
enum class step_schedule {
    // The batch as B·T rows: each operation (a product, a norm, a mixer over the documents) is
    // spread over the threads in turn. The default: no memory beyond the batch's activations.
    by_operation,
    // Each document's whole forward and backward on one thread, the documents spread over the
    // threads, each into a gradient of its own, summed in document order. One fork and join a
    // step instead of one an operation: faster where the operations are short (the width-64
    // Tiny Shakespeare models, bench/README.md), at the cost of one parameter gradient per
    // document of the batch (and an arena per document in place of the batch's; set_schedule
    // allocates them).
    by_document,
};

template <class Model, class S>
class network {
public:
    using model_type = Model;
    using scalar = S;
    using graph = typename Model::graph;
    static constexpr dims config = Model::config;
    static constexpr int V = config.vocab, T = config.block, B = config.batch;   // B: most sequences a step takes
    // The model bound for one sequence (step_schedule::by_document runs a document through it).
    using document_graph = bind<typename Model::expression, dims{V, T, config.width, 1}, 0>;

    // Every weight ~ Normal(0, init_std^2), drawn in parameter order from `seed`.
    explicit network(std::uint64_t seed, double init_std = 0.08)
        : params_(graph::param_size), grads_(graph::param_size), adam_m_(graph::param_size),
          adam_v_(graph::param_size), acts_(graph::act_size), logits_(std::size_t(B) * T * V + (VP - V)),
          dlogits_(std::size_t(B) * T * V), row_loss_(std::size_t(B) * T), state_(graph::state_size), table_(Model::parameters()),
          batch_tokens_(std::size_t(B) * T), batch_targets_(std::size_t(B) * T), batch_lengths_(B) {
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

    // The schedule of the batched training steps and losses (step_schedule above). by_document
    // trades the batch's arena for one arena and one gradient per document, allocated here, once,
    // so that the steps still allocate nothing; by_operation takes the batch's arena back.
    // One-document passes (a single document's step, its loss, logits, sampling) run the model
    // bound for one sequence in either.
    void set_schedule(step_schedule schedule) {
        schedule_ = B > 1 ? schedule : step_schedule::by_operation;
        const bool documents = schedule_ == step_schedule::by_document;
        // each arena released before the other is allocated: never both at once
        const auto resize = [](buffer<S>& arena, std::size_t count) {
            if (arena.size() == count) return;
            arena = buffer<S>(0);
            arena = buffer<S>(count);
        };
        resize(documents ? acts_ : document_acts_, 0);
        resize(document_grads_, documents ? std::size_t(B) * graph::param_size : 0);
        resize(document_loss_, documents ? std::size_t(B) : 0);
        resize(documents ? document_acts_ : acts_, documents ? std::size_t(B) * document_graph::act_size : graph::act_size);
    }
    step_schedule schedule() const { return schedule_; }
    // Bytes of the network's arrays: weights, gradients, Adam's moments, the activation arenas of
    // the schedule, logits, decoding state and the batch's tokens.
    std::size_t allocated_bytes() const {
        const std::size_t scalars = params_.size() + grads_.size() + adam_m_.size() + adam_v_.size() + acts_.size() +
                                    logits_.size() + dlogits_.size() + row_loss_.size() + state_.size() +
                                    document_acts_.size() + document_grads_.size() + document_loss_.size();
        const std::size_t ints = batch_tokens_.size() + batch_targets_.size() + batch_lengths_.size();
        return scalars * sizeof(S) + ints * sizeof(int);
    }

    // Mean cross-entropy over the n = min(T, len-1) predicted tokens of one document.
    S loss(std::span<const int> tokens) {
        const pass p = begin(tokens);
        document_graph::forward(p, params_.data(), arena(), static_cast<const S*>(nullptr), logits_.data());
        return cross_entropy(p.n, tokens.data() + 1, p.n, false) / S(p.n);
    }
    // Summed loss and the number of predicted tokens (evaluation means per token,
    // docs/benchmarks.md#evaluation-and-sampling).
    std::pair<double, int> loss_sum(std::span<const int> tokens) {
        const pass p = begin(tokens);
        document_graph::forward(p, params_.data(), arena(), static_cast<const S*>(nullptr), logits_.data());
        return {double(cross_entropy(p.n, tokens.data() + 1, p.n, false)), p.n};
    }
    // Loss and the gradient of every parameter (in gradients()).
    S loss_and_gradient(std::span<const int> tokens) { return document_gradient(tokens, 0); }
    // One step of training: forward, backward, Adam update. Allocates nothing.
    S train_step(std::span<const int> tokens, const adam& opt, int step) {
        const S l = loss_and_gradient(tokens);
        apply_update(opt, step);
        return l;
    }
    // A batch of 1 to B documents of unequal lengths (B from the model's batch<B>), each
    // predicting its first min(T, len-1) tokens: the loss is the mean over all the batch's
    // predicted tokens, and positions past a document's end count in neither the loss nor any
    // gradient. A batch of one document is exactly the one-document step above.
    S loss(std::span<const document> docs) {
        if (docs.size() == 1) return loss(docs[0]);
        const auto [p, count] = begin(docs);
        if constexpr (B > 1)
            if (schedule_ == step_schedule::by_document) return by_document(p, count, false);
        graph::forward(p, params_.data(), acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        return cross_entropy(p.n, batch_targets_.data(), count, false) / S(count);
    }
    S loss_and_gradient(std::span<const document> docs) { return batch_gradient(docs, 0); }
    // Data parallelism (gflow/distributed.hpp): `share` is this rank's part of a batch whose
    // documents, over all the shares, predict `batch_tokens` tokens. The loss returned and the
    // gradient left in gradients() are those of the share's summed loss divided by batch_tokens,
    // so that their sums over the shares are the whole batch's mean loss and its gradient. Each
    // row's gradient of the logits is then the very number the whole batch's step computes (the
    // same division by the same count); only the grouping of the sums over rows differs. An empty
    // share gives 0 and a zero gradient. The whole batch as its one share is loss_and_gradient(docs)
    // bit for bit.
    S loss_and_gradient(std::span<const document> share, int batch_tokens) {
        if (batch_tokens < 1)
            throw std::invalid_argument(fmt::format("gflow: a batch predicts at least 1 token, not {}", batch_tokens));
        if (share.empty()) {
            kernels::zero(grads_.data(), int(graph::param_size));
            return S(0);
        }
        return batch_gradient(share, batch_tokens);
    }
    S train_step(std::span<const document> docs, const adam& opt, int step) {
        const S l = loss_and_gradient(docs);
        apply_update(opt, step);
        return l;
    }

    // The gradients of the last loss_and_gradient, writable: a data-parallel step sums them over
    // the ranks in place (gflow/distributed.hpp) before apply_update reads them.
    std::span<S> gradients() { return grads_.span(); }

    // The Adam update with the gradients of the last loss_and_gradient.
    void apply_update(const adam& opt, int step) {
        opt.update(step, graph::param_size, params_.data(), grads_.data(), adam_m_.data(), adam_v_.data());
    }

    // The logits [n][V] of one document, by the whole-sequence forward pass.
    std::span<const S> logits(std::span<const int> tokens) {
        const pass p = begin(tokens);
        document_graph::forward(p, params_.data(), arena(), static_cast<const S*>(nullptr), logits_.data());
        return {logits_.data(), std::size_t(p.n) * V};
    }
    // The same logits computed one position at a time by the decoding path (as sampling does);
    // `out` holds [n][V]. Both paths must agree: the tests hold them to it.
    void incremental_logits(std::span<const int> tokens, std::span<S> out) {
        const pass whole = begin(tokens);
        if (out.size() < std::size_t(whole.n) * V)
            throw std::invalid_argument(fmt::format("gflow: incremental_logits writes [{}][{}] = {} logits; `out` holds {}",
                                                    whole.n, V, std::size_t(whole.n) * V, out.size()));
        std::fill_n(state_.data(), state_.size(), S(0));
        for (int t = 0; t < whole.n; ++t) {
            const pass p{1, tokens.data() + t, t};
            document_graph::decode(p, params_.data(), arena(), state_.data(), static_cast<const S*>(nullptr),
                                   out.data() + std::size_t(t) * V);
        }
    }

    // Temperature sampling from `start` (BOS) at position 0 until `start` comes again or
    // opt.length (at most T) tokens are drawn; returns the drawn tokens, without the final start
    // token. A model without a stop token (a character model of running text) samples with
    // .stop_at_start = false. Decoding runs one position at a time with the state each mixer
    // keeps (a Grassmann layer: its last max(window) reduced vectors; attention: its key/value cache).
    std::vector<int> sample(rng& gen, int start, sample_options opt = {}) {
        const int length = opt.length > 0 ? std::min(opt.length, T) : T;
        std::vector<int> out;
        out.reserve(std::size_t(length));
        int token = start;
        std::fill_n(state_.data(), state_.size(), S(0));
        for (int t = 0; t < length; ++t) {
            const pass p{1, &token, t};
            document_graph::decode(p, params_.data(), arena(), state_.data(), static_cast<const S*>(nullptr),
                                   logits_.data());
            token = draw(gen, logits_.data(), opt.temperature);
            if (opt.stop_at_start && token == start) break;
            out.push_back(token);
        }
        return out;
    }

private:
    // A row of logits in whole vectors (cross_entropy), where the row fits on the stack.
    static constexpr int VP = (V + simd::register_lanes<S> - 1) / simd::register_lanes<S> * simd::register_lanes<S>;
    static constexpr bool padded_rows = (std::is_same_v<S, float> || std::is_same_v<S, double>) &&
                                        simd::register_lanes<S> > 1 && VP * sizeof(S) <= 4096;

    // The loss and gradient of one document, divided by `divisor` predicted tokens (0: its own).
    S document_gradient(std::span<const int> tokens, int divisor) {
        const pass p = begin(tokens);
        const int count = divisor > 0 ? divisor : p.n;
        if (count < p.n) throw std::invalid_argument(too_few_tokens(count, p.n));
        S* w = params_.data();
        document_graph::forward(p, w, arena(), static_cast<const S*>(nullptr), logits_.data());
        const S total = cross_entropy(p.n, tokens.data() + 1, count, true);
        kernels::zero(grads_.data(), int(graph::param_size));
        document_graph::backward(p, w, grads_.data(), arena(), static_cast<const S*>(nullptr),
                                 logits_.data(), dlogits_.data(), static_cast<S*>(nullptr));
        return total / S(count);
    }
    // The same for 1 to B documents.
    S batch_gradient(std::span<const document> docs, int divisor) {
        if (docs.size() == 1) return document_gradient(docs[0], divisor);
        const auto [p, predicted] = begin(docs);
        const int count = divisor > 0 ? divisor : predicted;
        if (count < predicted) throw std::invalid_argument(too_few_tokens(count, predicted));
        if constexpr (B > 1)
            if (schedule_ == step_schedule::by_document) return by_document(p, count, true);
        S* w = params_.data();
        graph::forward(p, w, acts_.data(), static_cast<const S*>(nullptr), logits_.data());
        const S total = cross_entropy(p.n, batch_targets_.data(), count, true);
        kernels::zero(grads_.data(), int(graph::param_size));
        graph::backward(p, w, grads_.data(), acts_.data(), static_cast<const S*>(nullptr),
                        logits_.data(), dlogits_.data(), static_cast<S*>(nullptr));
        return total / S(count);
    }
    // step_schedule::by_document: document b (rows [b T, b T + n_b) of the batch laid out by
    // begin) runs the one-sequence graph in its own arena, its logits' rows and gradient rows
    // those of the batch, into its own gradient; the gradients are then summed in document order,
    // split by parameter over the threads. Inside the loop over documents every loop runs on the
    // document's thread (parallel::worth: no nested regions). Without gradient: the loss alone.
    S by_document(const pass& batch, int count, bool with_gradient) {
        const int documents = batch.batch;
        parallel::for_each(documents, long(batch.n) * long(graph::param_size), [=, this](int b) {
            const pass one{batch.lengths[b], batch.tokens + std::size_t(b) * T, 0};
            const std::size_t row = std::size_t(b) * T;
            S* acts = document_acts_.data() + std::size_t(b) * document_graph::act_size;
            const S* w = params_.data();
            document_graph::forward(one, w, acts, static_cast<const S*>(nullptr), logits_.data() + row * V);
            document_loss_.data()[b] = cross_entropy(one.n, batch_targets_.data() + row, count, with_gradient, int(row));
            if (!with_gradient) return;
            S* grads = document_grads_.data() + std::size_t(b) * graph::param_size;
            kernels::zero(grads, int(graph::param_size));
            document_graph::backward(one, w, grads, acts, static_cast<const S*>(nullptr), logits_.data() + row * V,
                                     dlogits_.data() + row * V, static_cast<S*>(nullptr));
        });
        if (with_gradient)
            kernels::sum_in_order<false>(grads_.data(), document_grads_.data(), documents, graph::param_size);
        S total = 0;
        for (int b = 0; b < documents; ++b) total += document_loss_.data()[b];
        return total / S(count);
    }
    // The arena of a one-document pass (document_graph): the batch's, or by document the first
    // document's.
    S* arena() { return schedule_ == step_schedule::by_document ? document_acts_.data() : acts_.data(); }
    static_assert(document_graph::act_size <= graph::act_size && document_graph::state_size == graph::state_size,
                  "gflow: the model bound for one sequence fits in the batch's arena");
    static std::string too_few_tokens(int batch_tokens, int share_tokens) {
        return fmt::format("gflow: a share predicting {} tokens cannot be part of a batch of {}", share_tokens, batch_tokens);
    }

    pass begin(std::span<const int> tokens) const {
        if (tokens.size() < 2)
            throw std::invalid_argument("gflow: a document needs at least 2 tokens (BOS and one more)");
        for (int tok : tokens)
            if (tok < 0 || tok >= V)
                throw std::invalid_argument(fmt::format("gflow: token {} is outside the vocabulary [0, {})", tok, V));
        return pass{std::min<int>(T, int(tokens.size()) - 1), tokens.data(), 0};
    }

    // The batch laid out as the terms read it: document b in rows [b T, b T + T), its tokens and
    // targets there, padding rows with token 0 and no target (-1). Returns the pass and the
    // number of predicted tokens.
    std::pair<pass, int> begin(std::span<const document> docs) {
        if (docs.empty() || docs.size() > std::size_t(B))
            throw std::invalid_argument(fmt::format("gflow: a batch holds 1 to {} documents (the model's batch<{}>), not {}",
                                                    B, B, docs.size()));
        int count = 0;
        for (std::size_t b = 0; b < docs.size(); ++b) {
            const pass one = begin(std::span<const int>(docs[b]));
            int* tokens = batch_tokens_.data() + b * T;
            int* targets = batch_targets_.data() + b * T;
            for (int t = 0; t < T; ++t) {
                tokens[t] = t < one.n ? docs[b][t] : 0;
                targets[t] = t < one.n ? docs[b][t + 1] : -1;
            }
            batch_lengths_[b] = one.n;
            count += one.n;
        }
        const int sequences = int(docs.size());
        return {pass{sequences * T, batch_tokens_.data(), 0, sequences, batch_lengths_.data()}, count};
    }

    // Summed -log softmax(logits[t])[target] over the rows with a target (>= 0); with gradient,
    // dlogits = (softmax - onehot) / count there and 0 in the rows without one.
    // Each exponential is computed once, into the gradient row, then normalised in place.
    // Rows [first, first + rows) of logits_ and dlogits_ (targets[0] is row first's).
    S cross_entropy(int rows, const int* targets, int count, bool with_gradient, int first = 0) {
        // Rows are independent: each row's loss goes to row_loss_ (spread over the threads), and
        // the total is their sum in row order, whatever the thread count. Without a gradient the
        // exponentials still go to the gradient rows, as scratch.
        S* row_loss = row_loss_.data() + first;
        parallel::for_each(rows, long(rows) * V * 8, [=, this](int t) {
            const S* row = logits_.data() + std::size_t(first + t) * V;
            S* e = dlogits_.data() + std::size_t(first + t) * V;
            const int target = targets[t];
            if (target < 0) {   // past a document's end
                kernels::zero(e, V);
                row_loss[t] = 0;
                return;
            }
            S max_logit = row[0];
            for (int i = 1; i < V; ++i) max_logit = std::max(max_logit, row[i]);
            S acc = 0;   // the sum of the exponentials (a vector reduction: vexp inlines)
            if constexpr (padded_rows) {
                // whole vectors: the lanes past V read the next row (or the padding after the
                // last row) and count 0, where a loop over V would end in a scalar remainder
                alignas(64) S ex[VP];
                GFLOW_SIMD_SUM
                for (int i = 0; i < VP; ++i) {
                    const S x = vexp(row[i] - max_logit);
                    ex[i] = i < V ? x : S(0);
                    acc += ex[i];
                }
                std::memcpy(e, ex, sizeof(S) * V);
            } else {
                GFLOW_SIMD_SUM
                for (int i = 0; i < V; ++i) {
                    e[i] = vexp(row[i] - max_logit);
                    acc += e[i];
                }
            }
            const S sum = acc;
            row_loss[t] = std::log(sum) + max_logit - row[target];
            if (with_gradient) {
                const S scale = S(1) / (sum * S(count));
                GFLOW_SIMD
                for (int i = 0; i < V; ++i) e[i] *= scale;
                e[target] -= S(1) / S(count);
            }
        });
        S total = 0;
        for (int t = 0; t < rows; ++t) total += row_loss[t];
        return total;
    }

    // A draw from softmax(logits / temperature). The weights are computed twice (for their sum,
    // then while walking to the draw) instead of kept in an array of V on the stack, which a large
    // vocabulary would overflow; both passes compute the same doubles.
    int draw(rng& gen, const S* logits, double temperature) const {
        double max_logit = -std::numeric_limits<double>::infinity();
        for (int i = 0; i < V; ++i) max_logit = std::max(max_logit, double(logits[i]) / temperature);
        const auto weight = [&](int i) { return std::exp(double(logits[i]) / temperature - max_logit); };
        double sum = 0;
        for (int i = 0; i < V; ++i) sum += weight(i);
        double u = gen.uniform() * sum;
        for (int i = 0; i < V; ++i) {
            u -= weight(i);
            if (u < 0) return i;
        }
        return V - 1;
    }

    buffer<S> params_, grads_, adam_m_, adam_v_;   // each [param_size], layout: parameter_table()
    buffer<S> acts_;                               // [graph::act_size], the memory plan (by operation)
    buffer<S> logits_, dlogits_;                   // [B·T][V] (logits_: and VP - V scalars of padding)
    buffer<S> row_loss_;                           // [B·T] the loss of each row
    buffer<S> state_;                              // [graph::state_size], decoding only
    std::vector<param_desc> table_;
    std::vector<int> batch_tokens_, batch_targets_;   // [B][T] a batch's inputs and targets (-1: none)
    std::vector<int> batch_lengths_;                  // [B] predicted tokens of each document
    // step_schedule::by_document (empty otherwise): each document's arena and gradient, its loss
    step_schedule schedule_ = step_schedule::by_operation;
    buffer<S> document_acts_{0};    // [B][document_graph::act_size]
    buffer<S> document_grads_{0};   // [B][param_size]
    buffer<S> document_loss_{0};    // [B]
};

template <class S, class Model>
network<Model, S> instantiate(Model, std::uint64_t seed, double init_std = 0.08) {
    return network<Model, S>(seed, init_std);
}

}  // namespace gflow
