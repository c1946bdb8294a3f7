// parens: benchmark 2 (docs/benchmarks.md#parens), parenthesis matching (a long-range task). Trains
// the model with each mixer on 10,000 balanced strings from a seeded random walk, evaluates it on 200 held-out strings,
// samples 50 strings at temperature 0.5 and counts the balanced, non-empty ones, and prints the
// comparison with the reference implementation.
//   parens [--mixer grassmann|attention|both] [--layers 1|2|4|6|12] [--steps N] [--seed N]
//          [--data PATH] [--dtype f32|f64] [--order shuffle|file] [--save PATH] [--load PATH] [--json]
//   parens --load W.safetensors --grad-doc '(())' --save-grads G.safetensors [--dtype f64] --mixer M
// --layers 12 is the paper's schedule, one Grassmann offset per layer (1,1,2,2,4,4,8,8,12,12,16,16);
// it is built for the Grassmann mixer only. --seed seeds the generated data as well as the weights,
// the shuffle and the samples; --data trains on the bracket strings of a file, one a line.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "parens_data.hpp"
#include "parens_runs.hpp"

namespace {

constexpr std::size_t generated_count = 10'000;
constexpr std::size_t samples_drawn = 50, samples_shown = 5;

gflow::bench::program_info info() {
    return {"parens",
            "benchmark 2 of docs/benchmarks.md: parenthesis matching, Grassmann against attention "
            "(--layers 12: the paper's one-offset-per-layer schedule, Grassmann only)",
            1000, std::vector<int>(std::begin(parens::built_layers), std::end(parens::built_layers))};
}

// --data PATH: the file's strings; else 10,000 strings of the random walk seeded with --seed.
gflow::io::document_set bracket_strings(const gflow::bench::options& o) {
    if (!o.data.empty())
        return gflow::io::read_documents(
            gflow::bench::find_data_file(o.data, {}, "give --data PATH, a file of bracket strings, one a line"));
    const auto lines = parens::generate(generated_count, o.seed);
    return gflow::io::documents_from_lines(fmt::format("random walk (seed {})", o.seed), lines);
}

// The mixers this run trains: --layers 12 exists for the Grassmann mixer only.
std::vector<std::string> mixers(const gflow::bench::options& o) {
    if (o.layers != parens::schedule_layers) return o.mixers();
    if (o.mixer == "attention")
        throw gflow::bench::usage_error(
            "parens: --layers 12 is the paper's one-offset-per-layer Grassmann schedule; attention is built for 1, 2, 4, 6 layers");
    return {"grassmann"};
}

}  // namespace

gflow::bench::task parens::task() {
    return {.name = "parens", .eval_docs = 200, .samples = samples_drawn, .temperature = 0.5,
            .score = [](gflow::bench::result& r) {
                const auto count = std::count_if(r.samples.begin(), r.samples.end(),
                                                 [](const std::string& s) { return parens::valid(s); });
                r.extra["valid_fraction"] = r.samples.empty() ? 0.0 : double(count) / double(r.samples.size());
            }};
}

int main(int argc, char** argv) {
    using namespace gflow::bench;
    try {
        const auto parsed = parse_options(argc, argv, info());
        if (!parsed) return 0;
        const options& o = *parsed;
        const auto run_mixers = mixers(o);
        const auto set = bracket_strings(o);
        const corpus data = make_corpus(set, parens::vocabulary(), o);
        if (!o.json && !o.grad_doc) {
            std::size_t symbols = 0;
            for (const auto& d : set.documents) symbols += d.size();
            fmt::print("data: {} strings from {}, mean length {:.1f}\n", set.documents.size(), set.source,
                       double(symbols) / double(set.documents.size()));
        }

        std::vector<result> results;
        for (const auto& mixer : run_mixers) {
            results.push_back(parens::run(mixer, o, data));
            if (o.grad_doc) return 0;
            if (o.json) fmt::print("{}\n", to_json(results.back()));
            else print_result(results.back(), samples_shown);
            std::fflush(stdout);
        }
        if (!o.json) {
            // docs/benchmarks.md#reference-figures: 1 layer, 1000 steps, pure Python
            const std::vector<reference_row> reference{{"attention (Python)", "", "0.5967", "352 ms", "100 %"},
                                                       {"Grassmann (Python)", "", "0.6660", "246 ms", "20 %"}};
            print_comparison(results, reference, "valid_fraction");
            fmt::print("\npeak memory {:.1f} MiB\n", double(peak_memory_kib()) / 1024);
        }
        return 0;
    } catch (const usage_error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const gflow::input_error& e) {
        fmt::print(stderr, "parens: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "parens: {}\n", e.what());
        return 1;
    }
}
