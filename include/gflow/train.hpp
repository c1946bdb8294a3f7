// gflow/train.hpp: the training loop of docs/benchmarks.md#training-schedule (one document per step,
// Adam with linear decay),
// per-token evaluation and the timing of steps. Shared by every benchmark program.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/io/error.hpp>
#include <gflow/network.hpp>

namespace gflow {

struct training_report {
    int steps = 0;
    double final_loss = 0;               // mean loss of the last min(100, steps) steps
    double median_us_per_step = 0;       // median over chunks of steps (see train())
    double flops_per_step = 0;           // mean over the steps, forward + backward (model_t::flops)
    double tokens_per_step = 0;          // predicted tokens, mean over the steps
    std::vector<double> loss_curve;      // mean training loss of each chunk of 100 steps
};

// A loss or gradient that is not finite stops training here, naming the step and the last
// finite loss instead of training on garbage.
struct numeric_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {
// The first parameter whose value is not finite, else the first non-finite gradient, as text.
template <class Net>
std::string first_non_finite(const Net& net) {
    for (const auto& d : net.parameter_table())
        for (std::size_t i = 0; i < std::size_t(d.rows) * d.cols; ++i)
            if (const double w = double(net.parameters()[d.offset + i]); !std::isfinite(w))
                return fmt::format("the parameter {}[{}] is {}", d.name, i, w);
    for (const auto& d : net.parameter_table())
        for (std::size_t i = 0; i < std::size_t(d.rows) * d.cols; ++i)
            if (const double g = double(net.gradients()[d.offset + i]); !std::isfinite(g))
                return fmt::format("the gradient of {}[{}] is {}", d.name, i, g);
    return "every parameter and gradient is finite";
}
}  // namespace detail

// Trains steps [first_step, end_step) of a schedule; step s uses docs[s mod N]. Time is measured
// per chunk of `chunk` steps with a steady clock and the median chunk is reported: robust to a
// noisy machine. `progress(step, loss)` is called between chunks; it is not timed.
// Checking only the loss costs nothing per step; a non-finite gradient reaches the weights and
// then the loss within a step, and the message names the first parameter that is not finite.
template <class Net>
training_report train(Net& net, std::span<const document> docs, const adam& opt, int first_step,
                      int end_step, const std::function<void(int, double)>& progress = {}, int chunk = 100) {
    training_report report;
    const int steps = end_step;
    report.steps = end_step - first_step;
    std::vector<double> chunk_us;
    double recent = 0, last_finite = NAN, flops = 0, tokens = 0;
    int recent_count = 0;
    for (int start = first_step; start < steps; start += chunk) {
        const int end = std::min(steps, start + chunk);
        double chunk_loss = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int s = start; s < end; ++s) {
            const document& doc = docs[std::size_t(s) % docs.size()];
            const double l = double(net.loss_and_gradient(doc));
            const long predicted = std::min<long>(Net::T, long(doc.size()) - 1);
            flops += Net::model_type::flops(predicted).total();
            tokens += double(predicted);
            if (!std::isfinite(l))   // before the update, so the culprit is still the first one
                throw numeric_error(fmt::format("training stopped at step {}: the loss is {} ({}); {}", s, l,
                                                std::isnan(last_finite) ? std::string("the first step of this run")
                                                                        : fmt::format("last finite loss {:.6g}", last_finite),
                                                detail::first_non_finite(net)));
            net.apply_update(opt, s);
            last_finite = l;
            chunk_loss += l;
            if (s >= steps - 100) {
                recent += l;
                ++recent_count;
            }
        }
        const auto t1 = std::chrono::steady_clock::now();
        chunk_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / (end - start));
        report.loss_curve.push_back(chunk_loss / (end - start));
        if (progress) progress(end, chunk_loss / (end - start));
    }
    if (!chunk_us.empty()) {
        std::sort(chunk_us.begin(), chunk_us.end());
        const std::size_t m = chunk_us.size();
        report.median_us_per_step = m % 2 ? chunk_us[m / 2] : 0.5 * (chunk_us[m / 2 - 1] + chunk_us[m / 2]);
    }
    report.final_loss = recent_count ? recent / recent_count : NAN;
    report.flops_per_step = report.steps > 0 ? flops / report.steps : 0;
    report.tokens_per_step = report.steps > 0 ? tokens / report.steps : 0;
    return report;
}

// Per-token mean loss over docs[(first + k) mod N], k < count: summed over every predicted token
// and divided by their number (docs/benchmarks.md#evaluation-and-sampling), not a mean of
// per-document means.
template <class Net>
double evaluate(Net& net, std::span<const document> docs, std::size_t first, std::size_t count) {
    double total = 0;
    long tokens = 0;
    for (std::size_t k = 0; k < count; ++k) {
        const auto [sum, n] = net.loss_sum(docs[(first + k) % docs.size()]);
        total += sum;
        tokens += n;
    }
    return total / double(tokens);
}

}  // namespace gflow
