// weighted_window: the names benchmark (docs/benchmarks.md#names) with the mixer of
// docs/new_mixer.md, a Grassmann mixer with a learned weight per offset
// (examples/weighted_window.hpp), beside the two mixers of the benchmark and the Grassmann mixer
// written node by node. Prints what the library generated for the new mixer (its summary,
// parameters, memory), then trains each model on the benchmark's schedule and data, with the
// benchmark's functions (gflow::train, gflow::evaluate, as bench::run calls them), and prints one
// table: parameters, losses, median time per step, and the learned weights.
//   weighted_window [--steps N] [--seed N] [--data PATH] [--dtype f32|f64] [--order shuffle|file] [--threads N]
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/run.hpp>

#include "names_model.hpp"
#include "weighted_window.hpp"

namespace {

using namespace gflow::bench;

// The plain Grassmann mixer with its window written out as separate nodes (window_mean_node named
// directly, so the fused Plücker node does not replace it): what the weighted mixer costs over it
// is the weights', what grassmann costs less is the fused node's.
template <int R, int... Offsets>
constexpr auto grassmann_node_by_node(gflow::terms::window_t<Offsets...>) {
    return gflow::terms::expression<"grassmann, node by node">([](auto h, auto d) {
        using namespace gflow::expr;
        auto z = linear<"W_red", R>(h);
        auto p = window_mean_node<decltype(unit(plucker(z, shift<Offsets>(z))))...>{};
        auto g = linear<"W_plu", d>(p);
        return map<"gate and mix">([](auto g_, auto h_, auto a, auto b) {
            const auto alpha = gflow::math::sigmoid(a + b);
            return alpha * h_ + (1 - alpha) * g_;
        }, g, h, linear<"W_gate_h", d>(h), linear<"W_gate_g", d>(g));
    });
}

constexpr auto weighted_model = names::model(weighted::weighted_mixer);
constexpr auto node_by_node_model = names::model(grassmann_node_by_node<4>(gflow::terms::offsets<1, 2, 4, 8, 12, 16>));
constexpr auto grassmann_model = names::model(names::grassmann_mixer);
constexpr auto attention_model = names::model(names::attention_mixer);

constexpr std::size_t eval_docs = 200;   // the names benchmark's (docs/benchmarks.md#evaluation-and-sampling)

struct row {
    std::string mixer;
    std::size_t params = 0;
    double train_loss = 0, eval_loss = 0, us_per_step = 0;
    std::string weights;   // the learned 1 + a_δ, where the mixer has them
};

// What the library made of the expression: the mixer bound at the names model's sizes, its
// summary row and one row per node of its graph (in the order forward runs them).
void print_mixer_graph() {
    using mixer = gflow::bind<std::remove_cvref_t<decltype(weighted::weighted_mixer)>,
                              decltype(weighted_model)::config, decltype(weighted_model)::config.width>;
    std::vector<gflow::summary_row> rows;
    mixer::summarize(rows, 0);
    if (rows.size() == 1) mixer::graph::summarize(rows, 1);   // the nodes, where the summary stops at the term
    fmt::print("{:<62}{:>10}{:>8}{:>8}{:>9}\n", "term, then its nodes", "in -> out", "params", "kept", "scratch");
    for (const auto& r : rows)
        fmt::print("{:<62}{:>10}{:>8}{:>8}{:>9}\n", std::string(std::size_t(r.depth) * 2, ' ') + r.label,
                   fmt::format("{} -> {}", r.in_width, r.out_width), r.params, with_commas(r.activations),
                   with_commas(r.scratch));
    std::string params;
    mixer::for_each_param([&](const gflow::param_desc& d) {
        params += fmt::format("{}{} [{}][{}]", params.empty() ? "" : ", ", d.name, d.rows, d.cols);
    }, 0, "layer0.");
    fmt::print("parameters, as the model names them: {}\n", params);
    fmt::print("kept for backward {} (the nodes' values and what they keep); scratch {}: the gradients {} (shared "
               "where their lives allow), the nodes' own {} (scalars per sequence of {})\n",
               with_commas(mixer::graph::kept_size), with_commas(mixer::graph::scratch_size),
               with_commas(mixer::graph::layout.grads), with_commas(mixer::graph::layout.node_scratch),
               decltype(weighted_model)::config.block);
}

template <class Model>
void print_sizes(const std::string& mixer, Model) {
    fmt::print("{:<24}{:>12}{:>22}{:>18}\n", mixer, with_commas(Model::parameter_count()),
               with_commas(Model::activation_count()), with_commas(Model::decode_state_count()));
}

// One run of the benchmark's schedule: the same seed (weights and document order), Adam with the
// benchmark's rates and linear decay over `steps`, evaluation on the 200 documents after them.
template <class S, class Model>
row train_one(const std::string& mixer, Model, const options& o, const corpus& data) {
    gflow::network<Model, S> net(o.seed);
    progress_line progress;
    const gflow::adam opt{.decay_steps = o.steps};
    const auto report = gflow::train(net, data.docs, opt, 0, o.steps, [&](int step, double loss) {
        progress.update(fmt::format("{}: step {}/{}  loss {:.4f}", mixer, step, o.steps, loss));
    });
    progress.finish();
    row r{mixer, Model::parameter_count(), report.final_loss,
          gflow::evaluate(net, data.docs, std::size_t(o.steps), eval_docs), report.median_us_per_step, ""};
    for (const auto& p : net.parameter_table())
        if (const auto dot = p.name.rfind(".a_"); dot != std::string::npos)
            r.weights += fmt::format("{}{} {:.3f}", r.weights.empty() ? "" : ", ", p.name.substr(dot + 1),
                                     1 + double(net.parameters()[p.offset]));
    return r;
}

template <class S>
std::vector<row> train_all(const options& o, const corpus& data) {
    return {train_one<S>("weighted grassmann", weighted_model, o, data),
            train_one<S>("grassmann, node by node", node_by_node_model, o, data),
            train_one<S>("grassmann", grassmann_model, o, data),
            train_one<S>("attention", attention_model, o, data)};
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const program_info info{"weighted_window",
                                "the names benchmark with a Grassmann mixer that learns a weight per offset "
                                "(docs/new_mixer.md), beside grassmann and attention",
                                3000, {1}};
        const auto parsed = parse_options(argc, argv, info);
        if (!parsed) return 0;
        const options& o = *parsed;
        if (o.mixer != "both" || !o.save.empty() || !o.load.empty() || !o.resume.empty() || o.grad_doc ||
            o.stop_after > 0 || o.json)
            throw usage_error("weighted_window: takes --steps, --seed, --data, --dtype, --order and --threads; it "
                              "always trains every mixer and saves nothing");
        if (o.threads > 0) gflow::parallel::set_threads(o.threads);
        const auto set = gflow::io::read_documents(default_data_file("names.txt", o.data));
        const corpus data = make_corpus(set, choose_vocabulary(o, set), o);

        fmt::print("The new mixer, bound in the names model (width 16, block 16):\n\n");
        print_mixer_graph();
        fmt::print("\n{:<24}{:>12}{:>22}{:>18}\n", "model", "parameters", "activation scalars", "decoding state");
        print_sizes("weighted grassmann", weighted_model);
        print_sizes("grassmann, node by node", node_by_node_model);
        print_sizes("grassmann", grassmann_model);
        print_sizes("attention", attention_model);
        std::fflush(stdout);

        const auto rows = o.dtype == "f64" ? train_all<double>(o, data) : train_all<float>(o, data);
        fmt::print("\nnames, 1 layer, {} steps, seed {}, {}, order {}:\n\n", o.steps, o.seed, o.dtype, o.order);
        fmt::print("| mixer | parameters | train loss | eval loss | µs per step (median) | learned 1 + a_δ |\n");
        fmt::print("|---|---|---|---|---|---|\n");
        for (const auto& r : rows)
            fmt::print("| {} | {} | {:.4f} | {:.4f} | {:.1f} | {} |\n", r.mixer, with_commas(r.params), r.train_loss,
                       r.eval_loss, r.us_per_step, r.weights.empty() ? "-" : r.weights);
        return 0;
    } catch (const usage_error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const gflow::input_error& e) {
        fmt::print(stderr, "weighted_window: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "weighted_window: {}\n", e.what());
        return 1;
    }
}
