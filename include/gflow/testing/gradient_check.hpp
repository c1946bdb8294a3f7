// gflow/testing/gradient_check.hpp: finite-difference checks of reverse mode, for gflow's own
// tests and for any user term. Derivatives are compared with the fourth-order central difference
//     f'(x) ≈ (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h)
// in double precision. The relative error of one component is |a - n| / max(|a|, |n|, floor):
// the floor (1e-4) keeps components whose true value is ~0 from dividing rounding noise by ~0;
// the absolute error is reported as well.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
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
template <class F>
double numeric_derivative(double& value, F&& f, double h = 1e-4) {
    const double x = value;
    value = x + 2 * h; const double f2 = f();
    value = x + h;     const double f1 = f();
    value = x - h;     const double fm1 = f();
    value = x - 2 * h; const double fm2 = f();
    value = x;
    return (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * h);
}

// Checks term T bound at sizes C with input width InWidth, over n positions: the loss is
// L = sum(c ⊙ T(x)) for a fixed random c, so backward is called with dy = c. Every parameter and
// every input component is perturbed. Terms that read tokens (input width 0) get random tokens.
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
    loss();
    I::backward(p, w.data(), dw.data(), a.data(), x.data(), y.data(), c.data(), dx.data());

    gradient_report report;
    std::vector<param_desc> names;
    I::for_each_param([&](const param_desc& d) { names.push_back(d); }, 0, "");
    for (std::size_t i = 0; i < w.size(); ++i) {
        std::string where = fmt::format("parameter scalar {}", i);
        for (const auto& d : names)
            if (i >= d.offset && i < d.offset + std::size_t(d.rows) * d.cols)
                where = fmt::format("{}[{}]", d.name, i - d.offset);
        report.add(dw[i], numeric_derivative(w[i], loss), where);
    }
    if constexpr (InWidth > 0)   // terms that read tokens have no input vector
        for (std::size_t i = 0; i < x.size(); ++i)
            report.add(dx[i], numeric_derivative(x[i], loss), fmt::format("input[{}][{}]", i / InWidth, i % InWidth));
    return report;
}

// Checks a whole network (double) on one document: every parameter's gradient of the mean
// cross-entropy. The step is smaller than for single terms: a model has many ReLU units, and a
// difference quotient whose stencil (x ± 2h) straddles a kink measures nothing.
template <class Model>
gradient_report check_network(network<Model, double>& net, std::span<const int> tokens, double h = 3e-5) {
    net.loss_and_gradient(tokens);
    const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());
    auto w = net.parameters();
    gradient_report report;
    for (const auto& d : net.parameter_table())
        for (std::size_t i = 0; i < std::size_t(d.rows) * d.cols; ++i)
            report.add(analytic[d.offset + i],
                       numeric_derivative(w[d.offset + i], [&] { return double(net.loss(tokens)); }, h),
                       fmt::format("{}[{}]", d.name, i));
    return report;
}

}  // namespace gflow::testing
