// gflow/core/batch.hpp: a term that mixes positions, run on a batch one sequence at a time.
//
// A batch of B sequences lies in B·T rows, sequence b in rows [b T, b T + T), of which the first
// lengths[b] are real (core/dims.hpp, `pass`). Position-wise terms and the composites take all
// B·T rows at once (they declare `handles_batches`); any other term (grassmann, attention, a
// user's mixer) is bound for one sequence and wrapped here, so that it never sees two sequences:
// its forward, backward and activations are those of one sequence, repeated B times, and it
// needs no code for batches. Rows past a sequence's end get output 0 (so later position-wise
// terms compute finite values there) and no gradient: the loss gives them none.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <gflow/core/dims.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/parallel.hpp>

namespace gflow {

template <class I, dims C>   // I: the term bound for one sequence (dims with batch 1)
struct per_sequence {
    static constexpr int T = C.block;
    static constexpr int in_width = I::in_width, out_width = I::out_width;
    static constexpr std::size_t param_size = I::param_size;
    // kept: [B][one sequence's kept block]; scratch: [B][param_size], each document's own gradient
    // of the term's parameters, summed into dw in document order (so that documents run on any
    // number of threads give the same sum), then [B][one sequence's scratch]: the documents run
    // side by side, each in its own.
    static constexpr std::size_t one_kept = kept_of<I>(), one_scratch = scratch_of<I>();
    static constexpr std::size_t kept_size = one_kept * std::size_t(C.batch);
    static constexpr std::size_t partials_size = I::param_size * std::size_t(C.batch);
    static constexpr std::size_t scratch_size = partials_size + one_scratch * std::size_t(C.batch);
    static constexpr std::size_t act_size = kept_size + scratch_size;
    static constexpr std::size_t state_size = I::state_size;                      // decoding: one sequence
    static constexpr flop_count flops(long length) { return flops_of<I>(length); }   // one sequence

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        I::for_each_param(f, offset, prefix);
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        const std::size_t first = rows.size();
        I::summarize(rows, depth);
        for (std::size_t i = first; i < rows.size(); ++i) {
            rows[i].activations *= std::size_t(C.batch);
            rows[i].scratch *= std::size_t(C.batch);
        }
        rows[first].scratch += partials_size;   // the documents' parameter gradients
    }

    // The documents are independent: spread over the threads, one document each.
    static constexpr long work_per_document = long(T) * (in_width + out_width) * (in_width + 1);

    template <class S>
    static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
        S* scratch = scratch_area(p, a, kept_size);
        if (p.batch == 1) return I::forward(inner(p, scratch + partials_size), w, a, x, y);
        parallel::for_each(p.batch, p.batch * work_per_document, [=](int b) {
            const int n = p.lengths[b];
            const std::size_t row = std::size_t(b) * T;
            I::forward(one(p, b, scratch), w, a + b * one_kept, x + row * in_width, y + row * out_width);
            kernels::zero(y + (row + n) * out_width, (T - n) * out_width);
        });
    }

    template <class S>
    static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S* y, const S* dy,
                         S* dx) {
        S* dw_of = scratch_area(p, a, kept_size);   // [B][param_size], then the documents' scratch
        if (p.batch == 1) return I::backward(inner(p, dw_of + partials_size), w, dw, a, x, y, dy, dx);
        parallel::for_each(p.batch, p.batch * work_per_document, [=](int b) {
            const std::size_t row = std::size_t(b) * T;
            S* dw_b = dw_of + b * I::param_size;
            kernels::zero(dw_b, int(I::param_size));
            I::backward(one(p, b, dw_of), w, dw_b, a + b * one_kept, x + row * in_width, y + row * out_width,
                        dy + row * out_width, dx ? dx + row * in_width : nullptr);
        });
        // dw += the documents' gradients, in document order, split by parameter over the threads
        kernels::sum_in_order<true>(dw, static_cast<const S*>(dw_of), p.batch, I::param_size);
    }

    template <class S>
    static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
        // decoding is one sequence, one position
        I::decode(inner(p, scratch_area(p, a, kept_size) + partials_size), w, a, state, x, y);
    }

private:
    // Document b's pass: its rows, its tokens, its own scratch after the [B][param_size] partials.
    template <class S>
    static pass one(const pass& p, int b, S* scratch) {
        return pass{p.lengths[b], p.tokens ? p.tokens + std::size_t(b) * T : nullptr, 0, 1, nullptr,
                    scratch + partials_size + std::size_t(b) * one_scratch};
    }
};

}  // namespace gflow
