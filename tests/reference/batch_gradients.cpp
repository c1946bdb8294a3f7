// The gflow half of reference/torch_batch_gradients (torch_batch_gradients.sh): a small Tiny
// Shakespeare model, batched, in f64. Writes its weights, the batch (batch.json, as
// bench/torch_models.py grads reads it) and the loss and every parameter gradient of that batch,
// which the script recomputes with PyTorch and compares.
//
// One model per translation unit: Meson compiles this file once per case, with
// -DBATCH_ATTENTION=0|1 (the mixer) and -DBATCH_LAYERS=1|2.
//
//   batch_gradients OUT_DIR [--min-work N]
//
// writes OUT_DIR/{weights,grads}.safetensors and OUT_DIR/batch.json and prints `loss <17 digits>`.
// --min-work is gflow::blas::min_work(), 0 by default: every product of two rows or more goes
// through the BLAS (where the build has one), so that the BLAS path is the one checked; a large
// value keeps every product on gflow's own kernels.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/core/blas.hpp>
#include <gflow/gflow.hpp>

#include "shakespeare_model.hpp"

#if !defined(BATCH_ATTENTION) || !defined(BATCH_LAYERS)
#error "compile with -DBATCH_ATTENTION=0|1 -DBATCH_LAYERS=N (tests/meson.build)"
#endif

namespace {
using namespace gflow::terms;

// Width 32, block 32, Grassmann r = 4 (offsets as the benchmark's), attention 4 heads: small,
// and what bench/torch_models.py builds from the weights' shapes (--model shakespeare, --heads 4).
constexpr int model_width = 32, model_block = 32, max_documents = 5;
#if BATCH_ATTENTION
constexpr auto mixer = attention<4>;
#else
constexpr auto mixer = grassmann<4>(offsets<1, 2, 4, 8, 12, 16>);
#endif

// shakespeare::with_layers<Width> in the same words, with block 32: that function fixes block<256>
// (and batch<8>), and its mixer variables tie r to the width (16 at width <= 64), so only its layer
// (shakespeare::layer), vocabulary and initial scale are reused as they are.
constexpr auto model = gflow::with_batch<max_documents>(
    gflow::model<vocab<shakespeare::vocab_size>, block<model_block>, width<model_width>>(
        (token_embedding + position_embedding) >> rmsnorm
        >> repeat<BATCH_LAYERS>(shakespeare::layer(mixer)) >> rmsnorm >> lm_head));

// Four documents (fewer than the batch's five) of unequal lengths: 50 tokens (49 > block: only the
// first 32 are predicted), 21, 5 and 2 (one prediction). The Shakespeare model is character level
// without BOS: any tokens in [0, 65), here drawn from a fixed seed.
std::vector<gflow::document> documents() {
    gflow::rng gen(2024);
    std::vector<gflow::document> docs;
    for (int length : {50, 21, 5, 2}) {
        gflow::document d;
        for (int i = 0; i < length; ++i) d.push_back(int(gen.below(shakespeare::vocab_size)));
        docs.push_back(d);
    }
    return docs;
}

void write_batch_json(const std::vector<gflow::document>& docs, const std::string& path) {
    std::ofstream out(path);
    out << "{\"sequences\": [";
    for (std::size_t b = 0; b < docs.size(); ++b)
        out << (b ? ", " : "") << fmt::format("[{}]", fmt::join(docs[b], ", "));
    out << "]}\n";
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--min-work")) {
        std::fprintf(stderr, "usage: %s OUT_DIR [--min-work N]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    gflow::blas::min_work() = argc == 4 ? std::stol(argv[3]) : 0;
    std::filesystem::create_directories(dir);

    const auto docs = documents();
    auto net = gflow::instantiate<double>(model, /*seed*/ 7, shakespeare::init_std);
    const double loss = net.loss_and_gradient(std::span<const gflow::document>(docs));

    write_batch_json(docs, (dir / "batch.json").string());
    gflow::save_checkpoint(net, (dir / "weights.safetensors").string());
    gflow::save_gradients(net, (dir / "grads.safetensors").string(),
                          {{"loss", fmt::format("{:.17g}", loss)}});
    fmt::print("blas {} (min_work {}): {}\n", gflow::blas::enabled ? "on" : "off",
               gflow::blas::min_work(), gflow::blas::description());
    fmt::print("loss {:.17g}\n", loss);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "batch_gradients: %s\n", e.what());
    return 1;
}
