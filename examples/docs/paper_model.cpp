// paper_model: the paper's full-scale model (examples/paper_model.hpp, paper::full_scale) as the
// library sees it: its definition, its summary and its parameter count at the paper's sizes
// (WordPiece vocabulary 30,522, L = 128, d = 256, r = 32, 6 layers). Nothing here is typed in
// but the definition's text, which tests/docs checks against examples/paper_model.hpp.
#include <fmt/core.h>

#include "definitions.hpp"
#include "model_page.hpp"
#include "paper_model.hpp"

int main() {
    constexpr auto model = paper::full_scale;
    fmt::print("The paper's model, as {} defines it:\n\n{}\n", gdocs::paper_model_path, gdocs::paper_model_source);

    fmt::print("Its graph (model summary):\n\n");
    fmt::print("{:<78}{:>15}{:>14}{:>16}\n", "term", "in -> out", "parameters", "activations");
    for (const auto& row : model.summary())
        fmt::print("{:<78}{:>15}{:>14}{:>16}\n", std::string(std::size_t(row.depth) * 2, ' ') + row.label,
                   fmt::format("{} -> {}", row.in_width, row.out_width), gdocs::with_commas(row.params),
                   gdocs::with_commas(row.activations));

    fmt::print("\nparameters: {} (model.parameter_count(), {} tensors)\n", gdocs::with_commas(model.parameter_count()),
               model.parameters().size());
    // the parameter table, grouped: the embeddings and the head by name, the layers by prefix
    std::size_t layers = 0, layer_count = 0;
    for (const auto& p : model.parameters()) {
        const std::size_t size = std::size_t(p.rows) * std::size_t(p.cols);
        if (p.name.starts_with("layer")) {
            layers += size;
            if (p.name.ends_with(".W_red")) ++layer_count;
        } else {
            fmt::print("  {:<10}{:<16}{:>12}\n", p.name, fmt::format("[{}][{}]", p.rows, p.cols), gdocs::with_commas(size));
        }
    }
    fmt::print("  {:<26}{:>12} ({} each)\n", fmt::format("{} layers", layer_count), gdocs::with_commas(layers), gdocs::with_commas(layers / layer_count));
    fmt::print("activation memory: {} scalars per sequence of {} tokens ({:.1f} MiB in f32)\n",
               gdocs::with_commas(model.activation_count()), model.config.block,
               double(model.activation_count()) * 4 / (1024.0 * 1024.0));
    fmt::print("decoding state: {} scalars\n",
               gdocs::with_commas(model.decode_state_count()));
    fmt::print("The whole page: docs/generated/paper_model.md\n");
}
