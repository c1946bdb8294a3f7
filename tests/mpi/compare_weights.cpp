// compare_weights A.safetensors B.safetensors TOLERANCE: how far the weights in A are from those in
// B, as max |a - b| over every parameter divided by max |b| (the error relative to the size of the
// weights, a norm-wise relative error: an entry near 0 does not make it blow up). Prints that
// figure, the tensor where the largest difference is, and how many entries differ at all; exits 1
// when the figure is above TOLERANCE or the files do not hold the same tensors.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include <gflow/io/safetensors.hpp>

int main(int argc, char** argv) {
    if (argc != 4) {
        fmt::print(stderr, "usage: compare_weights A.safetensors B.safetensors TOLERANCE\n");
        return 2;
    }
    try {
        const auto a = gflow::io::read_safetensors(argv[1]);
        const auto b = gflow::io::read_safetensors(argv[2]);
        const double tolerance = std::stod(argv[3]);
        if (a.tensors.size() != b.tensors.size()) {
            fmt::print("compare_weights: {} tensors against {}\n", a.tensors.size(), b.tensors.size());
            return 1;
        }
        double largest = 0, worst = 0;
        std::string worst_name;
        long differing = 0, total = 0;
        for (const auto& tb : b.tensors) {
            const auto* ta = a.find(tb.name);
            if (!ta || ta->shape != tb.shape) {
                fmt::print("compare_weights: tensor '{}' is missing from {} or has another shape\n", tb.name, argv[1]);
                return 1;
            }
            for (std::size_t i = 0; i < tb.values.size(); ++i) {
                largest = std::max(largest, std::abs(tb.values[i]));
                const double d = std::abs(ta->values[i] - tb.values[i]);
                if (!(d <= worst)) {   // NaN counts as the worst
                    worst = d;
                    worst_name = tb.name;
                }
                differing += ta->values[i] != tb.values[i];
                ++total;
            }
        }
        const double relative = largest > 0 ? worst / largest : worst;
        fmt::print("max |a - b| / max |b| = {:.3g} (largest difference {:.3g} in {}; {} of {} entries differ)\n", relative,
                   worst, worst_name.empty() ? "-" : worst_name, differing, total);
        return relative <= tolerance ? 0 : 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "compare_weights: {}\n", e.what());
        return 2;
    }
}
