// names: SPEC's benchmark 1. Trains the names model with each mixer (Grassmann and attention),
// evaluates it, samples 20 names, and prints the comparison with the reference implementation.
//   names [--mixer grassmann|attention|both] [--layers 1|2|4] [--steps N] [--seed N]
//         [--data PATH] [--dtype f32|f64] [--order shuffle|file] [--save PATH] [--load PATH] [--json]
//   names --load W.safetensors --grad-doc TEXT --save-grads G.safetensors [--dtype f64] --mixer M
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "names_runs.hpp"

#ifndef GFLOW_SOURCE_ROOT
#define GFLOW_SOURCE_ROOT "."
#endif

namespace {

constexpr const char* names_url = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt";

gflow::bench::program_info info() {
    return {"names", "SPEC benchmark 1: name generation, Grassmann against attention", 3000,
            std::vector<int>(std::begin(names::built_layers), std::end(names::built_layers))};
}

// --data, else the project's data/names.txt, else ../shared/data/names.txt beside the checkout;
// else, where the machine can download, fetch it into data/ as the reference does.
std::string names_file(const std::string& given) {
    const std::string root = GFLOW_SOURCE_ROOT;
    const std::string own = root + "/data/names.txt", shared = root + "/../shared/data/names.txt";
    const std::string help = fmt::format(
        "names: no data file: give --data PATH, or put names.txt (the makemore names list, {}) at {} or {}",
        names_url, own, shared);
    if (!given.empty()) return gflow::bench::find_data_file(given, {}, help);
    std::error_code ec;
    if (std::filesystem::is_regular_file(own, ec) || std::filesystem::is_regular_file(shared, ec))
        return gflow::bench::find_data_file("", {own, shared}, help);
    if (std::system("command -v curl >/dev/null 2>&1") == 0) {
        const std::string tmp = own + ".download";
        const std::string cmd = fmt::format("mkdir -p '{}/data' && curl -fsSL --max-time 30 -o '{}' '{}' 2>/dev/null",
                                            root, tmp, names_url);
        if (std::system(cmd.c_str()) == 0 && std::filesystem::file_size(tmp, ec) > 0) {
            std::filesystem::rename(tmp, own, ec);
            if (!ec) return own;
        }
        std::filesystem::remove(tmp, ec);
    }
    throw gflow::input_error(help);
}

}  // namespace

gflow::bench::task names::task() { return {.name = "names", .eval_docs = 200, .samples = 20, .temperature = 0.5, .score = {}}; }

int main(int argc, char** argv) {
    using namespace gflow::bench;
    try {
        const auto parsed = parse_options(argc, argv, info());
        if (!parsed) return 0;
        const options& o = *parsed;
        const auto set = gflow::io::read_documents(names_file(o.data));
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
