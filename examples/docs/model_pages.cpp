// model_pages: writes the generated model pages of docs/generated/ from the models' types, or
// checks that the committed ones are current.
//
//   model_pages --out DIR      write DIR/names_grassmann.md, names_attention.md, paper_model.md
//   model_pages --check DIR    exit 1 (and say where) if a page in DIR differs from what the code gives
//
// `ninja -C build docs` runs the first; the test docs/model_pages_current runs the second.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "definitions.hpp"
#include "model_page.hpp"
#include "names_model.hpp"
#include "paper_model.hpp"

namespace {

struct page {
    std::string file;
    std::string text;
};

std::vector<page> pages() {
    const std::string names_intro =
        "Benchmark 1 of [benchmarks.md](../benchmarks.md#names) (name generation), the model of microGrassmann, "
        "with the {} mixer: the expression below, with `{}` in the mixer's place. The other mixer's page: "
        "[{}]({}).";
    return {
        {"names_grassmann.md",
         gdocs::model_page<decltype(names::model(names::grassmann_mixer))>(
             {"The names model with the Grassmann mixer", "names::model(names::grassmann_mixer)",
              fmt::format(fmt::runtime(names_intro), "Grassmann", "grassmann_mixer", "names_attention.md",
                          "names_attention.md"),
              std::string(gdocs::names_model_path), std::string(gdocs::names_model_source)})},
        {"names_attention.md",
         gdocs::model_page<decltype(names::model(names::attention_mixer))>(
             {"The names model with the attention mixer", "names::model(names::attention_mixer)",
              fmt::format(fmt::runtime(names_intro), "attention", "attention_mixer", "names_grassmann.md",
                          "names_grassmann.md"),
              std::string(gdocs::names_model_path), std::string(gdocs::names_model_source)})},
        {"paper_model.md",
         gdocs::model_page<decltype(paper::full_scale)>(
             {"The paper's 6-layer model at full scale", "paper::full_scale",
              "The full-scale model of \"Attention Is Not What You Need\" (arXiv:2512.19428) as "
              "[benchmarks.md](../benchmarks.md#paper-model) states it: post-LN layers of the paper's Grassmann "
              "mixer (`grassmann_paper`, one window in every layer), an FFN of 4d with GELU and a bias on every "
              "linear map; the sizes are in the definition below. Its "
              "parameter count is the library's (`parameter_count()`), not typed in; `examples/docs/paper_model.cpp` "
              "prints it with the definition.",
              std::string(gdocs::paper_model_path), std::string(gdocs::paper_model_source)})},
    };
}

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return {std::istreambuf_iterator<char>(in), {}};
}

// The first line where two texts differ, for the failure message.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        const bool ga = bool(std::getline(sa, la)), gb = bool(std::getline(sb, lb));
        if (!ga && !gb) return "(identical)";
        if (!ga || !gb || la != lb)
            return fmt::format("line {}:\n  committed: {}\n  generated: {}", line, ga ? la : "(end of file)",
                               gb ? lb : "(end of file)");
    }
}

}  // namespace

int main(int argc, char** argv) try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() != 2 || (args[0] != "--out" && args[0] != "--check")) {
        fmt::print(stderr, "usage: model_pages --out DIR | --check DIR\n");
        return 2;
    }
    const std::filesystem::path dir = args[1];
    int stale = 0;
    for (const auto& p : pages()) {
        const auto path = dir / p.file;
        if (args[0] == "--out") {
            std::filesystem::create_directories(dir);
            std::ofstream(path, std::ios::binary) << p.text;
            fmt::print("wrote {}\n", path.string());
        } else if (const std::string committed = read(path); committed != p.text) {
            fmt::print(stderr, "{} is not current ({}); regenerate it with `ninja -C build docs`\n", path.string(),
                       first_difference(committed, p.text));
            ++stale;
        } else {
            fmt::print("{} is current\n", path.string());
        }
    }
    return stale == 0 ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "model_pages: {}\n", e.what());
    return 1;
}
