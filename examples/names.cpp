// names: benchmark 1 (docs/benchmarks.md#names). Trains the names model with each mixer (Grassmann
// and attention), evaluates it, samples 20 names, and prints the comparison with the reference
// implementation.
//   names [--mixer grassmann|attention|both] [--layers 1|2|4] [--steps N] [--seed N]
//         [--data PATH] [--dtype f32|f64] [--order shuffle|file] [--save PATH] [--load PATH] [--json]
//   names --load W.safetensors --grad-doc TEXT --save-grads G.safetensors [--dtype f64] --mixer M
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "names_runs.hpp"

namespace {

gflow::bench::program_info info() {
    return {"names", "benchmark 1 of docs/benchmarks.md: name generation, Grassmann against attention", 3000,
            std::vector<int>(std::begin(names::built_layers), std::end(names::built_layers))};
}

}  // namespace

gflow::bench::task names::task() { return {.name = "names", .eval_docs = 200, .samples = 20, .temperature = 0.5, .score = {}}; }

int main(int argc, char** argv) {
    using namespace gflow::bench;
    try {
        const auto parsed = parse_options(argc, argv, info());
        if (!parsed) return 0;
        const options& o = *parsed;
        const auto set = gflow::io::read_documents(default_data_file("names.txt", o.data));
        const corpus data = make_corpus(set, choose_vocabulary(o, set), o);

        std::vector<result> results;
        for (const auto& mixer : o.mixers()) {
            results.push_back(mixer == "grassmann" ? names::run_grassmann(o, data) : names::run_attention(o, data));
            if (o.grad_doc) return 0;
            if (o.json) fmt::print("{}\n", to_json(results.back()));
            else print_result(results.back(), 20);
            std::fflush(stdout);
        }
        if (!o.json) {
            const std::vector<reference_row> reference{{"attention (Python)", "4,192", "2.3090", "", ""},
                                                       {"Grassmann (Python)", "3,840", "2.3097", "", ""}};
            print_comparison(results, reference);
            fmt::print("\npeak memory {:.1f} MiB\n", double(peak_memory_kib()) / 1024);
        }
        return 0;
    } catch (const usage_error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const gflow::input_error& e) {
        fmt::print(stderr, "names: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "names: {}\n", e.what());
        return 1;
    }
}
