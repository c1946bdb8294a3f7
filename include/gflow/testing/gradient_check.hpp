// gflow/testing/gradient_check.hpp: finite-difference checks of reverse mode, for gflow's own
// tests and for any user term. Derivatives are compared with the fourth-order central difference
//     f'(x) ≈ (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h)
// in double precision. The relative error of one component is |a - n| / max(|a|, |n|, floor):
// the floor (1e-4) keeps components whose true value is ~0 from dividing rounding noise by ~0;
// the absolute error is reported as well.
#pragma once
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/term.hpp>
#include <gflow/network.hpp>
#include <gflow/random.hpp>

namespace gflow::testing {

struct gradient_report {
    double max_relative_error = 0;
    double max_absolute_error = 0;
    std::size_t checked = 0;     // components compared
    std::string worst;           // where the largest relative error is

    void add(double analytic, double numeric, const std::string& where) {
        const double abs_err = std::abs(analytic - numeric);
        const double rel = abs_err / std::max({std::abs(analytic), std::abs(numeric), 1e-4});
        max_absolute_error = std::max(max_absolute_error, abs_err);
        if (rel > max_relative_error || checked == 0) {
            max_relative_error = std::max(rel, max_relative_error);
            worst = fmt::format("{}: analytic {:.10g}, numeric {:.10g}", where, analytic, numeric);
        }
        ++checked;
    }
};

// d f / d x at x = `value`, by the fourth-order central difference; restores `value`.
template <class T, class F>
double numeric_derivative(T& value, F&& f, double h = 1e-4) {
    const T x = value, step = T(h);
    value = x + 2 * step; const T f2 = T(f());
    value = x + step;     const T f1 = T(f());
    value = x - step;     const T fm1 = T(f());
    value = x - 2 * step; const T fm2 = T(f());
    value = x;
    return double((-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * step));
}

// A term's decoding against its forward pass: forward over n positions, then decode position by
// position from a zeroed state, with the same random weights (std 0.5) and inputs; returns the
// largest difference relative to the largest output. What a mixer's decode must give: its forward
// on each row, up to the grouping of sums (tests/expr/).
template <term T, dims C, int InWidth>
double decode_difference(int n, std::uint64_t seed) {
    using I = bind<T, C, InWidth>;
    rng gen(seed);
    std::vector<double> w(I::param_size), a(I::act_size + 1), state(I::state_size + 1, 0.0),
        x(std::size_t(n) * InWidth), y(std::size_t(n) * I::out_width), decoded(y.size());
    for (auto& v : w) v = 0.5 * gen.normal();
    for (auto& v : x) v = gen.normal();
    I::forward(pass{n, nullptr, 0}, w.data(), a.data(), x.data(), y.data());
    for (int t = 0; t < n; ++t)
        I::decode(pass{1, nullptr, t}, w.data(), a.data(), state.data(), x.data() + t * InWidth,
                  decoded.data() + t * I::out_width);
    double m = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        m = std::max(m, std::abs(y[i] - decoded[i]));
        scale = std::max(scale, std::abs(y[i]));
    }
    return m / scale;
}

// Checks term T bound at sizes C with input width InWidth, over n positions: the loss is
// L = sum(c ⊙ T(x)) for a fixed random c, so backward is called with dy = c. Every parameter and
// every input component is perturbed. Terms that read tokens (input width 0) get random tokens.
// The gradient outputs start from random values, not zeros, and backward runs twice after one
// forward: the first increment is compared with the difference quotients, the second with the
// first. A backward that overwrites instead of accumulating (kernels.hpp's convention), or whose
// result depends on scratch an earlier call left in its activation block, fails either way.
template <term T, dims C, int InWidth>
gradient_report check_term(std::uint64_t seed, int n = C.block, double param_std = 0.5) {
    using I = bind<T, C, InWidth>;
    rng gen(seed);
    std::vector<double> w(I::param_size), x(std::size_t(n) * InWidth), c(std::size_t(n) * I::out_width);
    std::vector<double> a(I::act_size + 1), y(c.size()), dw(w.size()), dx(x.size());
    std::vector<int> tokens(static_cast<std::size_t>(n));
    for (auto& v : w) v = param_std * gen.normal();
    for (auto& v : x) v = gen.normal();
    for (auto& v : c) v = gen.normal();
    for (auto& t : tokens) t = int(gen.below(std::uint64_t(C.vocab)));
    const pass p{n, tokens.data(), 0};

    auto loss = [&] {
        I::forward(p, w.data(), a.data(), x.data(), y.data());
        double l = 0;
        for (std::size_t i = 0; i < y.size(); ++i) l += c[i] * y[i];
        return l;
    };
    std::vector<double> dw_start(dw.size()), dx_start(dx.size());
    for (auto& v : dw_start) v = gen.normal();
    for (auto& v : dx_start) v = gen.normal();
    dw = dw_start;
    dx = dx_start;
    loss();
    I::backward(p, w.data(), dw.data(), a.data(), x.data(), y.data(), c.data(), dx.data());
    const std::vector<double> dw_once = dw, dx_once = dx;
    I::backward(p, w.data(), dw.data(), a.data(), x.data(), y.data(), c.data(), dx.data());
    // The increments of the two calls; compared below, the first also with the quotients.
    std::vector<double> dw_first(dw.size()), dw_second(dw.size()), dx_first(dx.size()), dx_second(dx.size());
    for (std::size_t i = 0; i < dw.size(); ++i) {
        dw_first[i] = dw_once[i] - dw_start[i];
        dw_second[i] = dw[i] - dw_once[i];
    }
    for (std::size_t i = 0; i < dx.size(); ++i) {
        dx_first[i] = dx_once[i] - dx_start[i];
        dx_second[i] = dx[i] - dx_once[i];
    }

    gradient_report report;
    std::vector<param_desc> names;
    I::for_each_param([&](const param_desc& d) { names.push_back(d); }, 0, "");
    for (std::size_t i = 0; i < w.size(); ++i) {
        std::string where = fmt::format("parameter scalar {}", i);
        for (const auto& d : names)
            if (i >= d.offset && i < d.offset + std::size_t(d.rows) * d.cols)
                where = fmt::format("{}[{}]", d.name, i - d.offset);
        report.add(dw_first[i], numeric_derivative(w[i], loss), where);
        report.add(dw_second[i], dw_first[i], "the second backward's " + where);
    }
    if constexpr (InWidth > 0)   // terms that read tokens have no input vector
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::string where = fmt::format("input[{}][{}]", i / InWidth, i % InWidth);
            report.add(dx_first[i], numeric_derivative(x[i], loss), where);
            report.add(dx_second[i], dx_first[i], "the second backward's " + where);
        }
    return report;
}

// Checks a whole network (double) on one document: every parameter's gradient of the mean
// cross-entropy. The difference quotients are taken on a long double copy of the same weights
// (x87 extended precision, 64-bit mantissa where the platform has it): a deep model's loss carries
// ~1e-14 of rounding in double, which a quotient with a step small enough to stay clear of every
// ReLU kink would amplify to ~1e-6; in extended precision it stays ~1e-13. What is tested is
// the double code's analytic gradient.
// `stride` > 1 checks every stride-th scalar of each tensor (always its first and last), for
// models too large to perturb every weight in a unit test.
// `input` is one document's tokens, or a batch of documents (a model with batch<B>).
template <class Model, class Input>
    requires std::convertible_to<const Input&, std::span<const int>> ||
             std::convertible_to<const Input&, std::span<const document>>
gradient_report check_network(network<Model, double>& net, const Input& input, double h = 1e-6,
                              std::size_t stride = 1) {
    using span = std::conditional_t<std::convertible_to<const Input&, std::span<const int>>, std::span<const int>,
                                    std::span<const document>>;
    const span tokens(input);
    net.loss_and_gradient(tokens);
    const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());
    network<Model, long double> reference(0);
    std::copy(net.parameters().begin(), net.parameters().end(), reference.parameters().begin());
    auto w = reference.parameters();
    gradient_report report;
    for (const auto& d : net.parameter_table()) {
        const std::size_t size = std::size_t(d.rows) * d.cols;
        for (std::size_t i = 0; i < size; i = (i + 1 == size) ? size : std::min(i + stride, size - 1))
            report.add(analytic[d.offset + i],
                       numeric_derivative(w[d.offset + i], [&] { return reference.loss(tokens); }, h),
                       fmt::format("{}[{}]", d.name, i));
    }
    return report;
}

}  // namespace gflow::testing
