// trace_alpha.cpp: how the gate alpha is decided, and why the reduction W_red matters.
//
// Part 1 trains the names Grassmann model (examples/names_model.hpp) and reads the gate of its
// mixer: alpha = sigmoid(W_gate_h h + W_gate_g g), per position and per dimension.
// Part 2 trains the same model with two bad reductions, from the same seed: W_red with two
// identical rows, and W_red of rank 1 (all rows identical; the constraint is applied again after
// every step). It shows what a bad reduction loses: Plücker coordinates that are always 0 or
// always equal, a g that carries less or nothing, positions the mixer no longer sees, and the
// loss that follows.
// Every number comes from gflow: the network's forward and training, and the mixer's own
// activation buffers (gflow::bind<grassmann<...>, dims, width>, read at its documented offsets).
//
// Usage: trace_alpha [names.txt] [--steps N]
//   names.txt   default: the project's data/names.txt, found from any working directory
//   --steps N   training steps of each model (default 3000, as benchmark 1 of docs/benchmarks.md)
#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/gflow.hpp>
#include <gflow/io/text_data.hpp>

#include "names_model.hpp"

namespace {

using namespace gflow::terms;

using model_type = decltype(names::model(names::grassmann_mixer));
using mixer_term = std::remove_cvref_t<decltype(names::grassmann_mixer)>;
using network = gflow::network<model_type, double>;
using document = std::vector<int>;
constexpr gflow::dims C = model_type::config;
constexpr int d = C.width, V = C.vocab;
constexpr int R = mixer_term::r, P = mixer_term::pairs, K = mixer_term::K;

// The model up to layer 0's mixer, and the mixer, bound to the names sizes.
using mixer_front = gflow::bind<decltype((token_embedding + position_embedding) >> rmsnorm >> rmsnorm), C, 0>;
using mixer = gflow::bind<mixer_term, C, d>;

// ---- the mixer's view of one document ------------------------------------------------------
struct mixer_view {
    int n;                     // positions
    std::vector<double> h;     // [n][d] the mixer's input
    std::vector<double> act;   // the mixer's activation block (offsets mixer::z, ::phat, ...)
    std::vector<double> out;   // [n][d]
    const double* z(int t) const { return act.data() + mixer::z + t * R; }
    const double* p_hat(int t, int k) const { return act.data() + mixer::phat + (t * K + k) * P; }
    const double* g(int t) const { return act.data() + mixer::g + t * d; }
    double alpha(int t, int i) const {
        return gflow::math::sigmoid(act[mixer::gate_h + t * d + i] + act[mixer::gate_g + t * d + i]);
    }
};

// Runs the model's front and layer 0's mixer with the network's weights on one document.
mixer_view look_inside(network& net, const document& tokens) {
    const int n = std::min<int>(C.block, int(tokens.size()) - 1);
    mixer_view v{n, std::vector<double>(std::size_t(n) * d), std::vector<double>(mixer::act_size),
                 std::vector<double>(std::size_t(n) * d)};
    std::vector<double> front_act(mixer_front::act_size);
    mixer_front::forward(gflow::pass{n, tokens.data(), 0}, net.parameter("wte").data(), front_act.data(),
                         static_cast<const double*>(nullptr), v.h.data());
    mixer::forward(gflow::pass{n, nullptr, 0}, net.parameter("layer0.W_red").data(), v.act.data(), v.h.data(),
                   v.out.data());
    return v;
}

// ---- data, training, evaluation -------------------------------------------------------------
struct corpus {
    gflow::io::vocabulary vocab;
    std::vector<document> docs;   // shuffled
};

corpus load(const std::string& path) {
    const auto names = gflow::io::read_documents(path);
    corpus c{gflow::io::vocabulary::from_documents(names), {}};
    if (c.vocab.bos() + 1 != V)
        throw gflow::input_error(fmt::format("{}: {} distinct characters; the names model is built for {}",
                                             path, c.vocab.size(), V - 1));
    for (std::size_t i = 0; i < names.documents.size(); ++i)
        c.docs.push_back(gflow::io::encode(c.vocab, names.documents[i], path, i));
    gflow::rng gen(42);
    gen.shuffle(std::span(c.docs));
    return c;
}

// The three reductions of part 2.
enum class reduction { free, tied_rows, rank_one };
constexpr std::array reductions{reduction::free, reduction::tied_rows, reduction::rank_one};

std::string_view name_of(reduction r) {
    switch (r) {
        case reduction::free: return "trained freely";
        case reduction::tied_rows: return "rows 0, 1 equal";
        case reduction::rank_one: return "rank 1";
    }
    return "";
}

// W_red is [r][d], a row per reduced coordinate.
void constrain(network& net, reduction r) {
    const auto W_red = net.parameter("layer0.W_red");
    const int copies = r == reduction::tied_rows ? 1 : r == reduction::rank_one ? R - 1 : 0;
    for (int row = 1; row <= copies; ++row) std::copy_n(W_red.begin(), d, W_red.begin() + row * d);
}

// The benchmarks' training (docs/benchmarks.md#training-schedule: document s mod N at step s, Adam
// with linear decay), with the reduction's constraint applied before the first step and after
// every step.
network trained(const corpus& data, int steps, reduction r) {
    network net(42);
    const gflow::adam adam{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = steps};
    constrain(net, r);
    for (int s = 0; s < steps; ++s) {
        net.train_step(data.docs[std::size_t(s) % data.docs.size()], adam, s);
        constrain(net, r);
    }
    return net;
}

// The `count` documents after the training ones (the evaluation set of
// docs/benchmarks.md#evaluation-and-sampling: count = 200).
std::vector<document> eval_docs(const corpus& data, int steps, std::size_t count) {
    std::vector<document> out;
    for (std::size_t k = 0; k < count; ++k)
        out.push_back(data.docs[(std::size_t(steps) + k) % data.docs.size()]);
    return out;
}

// Below this, a value is rounding, not information: with parallel z, the compiler's fused
// multiply-add leaves p near 1e-17 instead of 0, and p / sqrt(|p|^2 + 1e-8) carries it to 1e-13.
constexpr double rounding = 1e-9;

double eval_loss(network& net, const std::vector<document>& docs) {
    double total = 0;
    long tokens = 0;
    for (const auto& doc : docs) {
        const auto [sum, n] = net.loss_sum(doc);
        total += sum;
        tokens += n;
    }
    return total / double(tokens);
}

// The earlier positions s whose token changes the logits at the last position of `tokens`
// (by more than rounding).
std::vector<int> seen_by_last(network& net, const document& tokens, int bos) {
    const int n = std::min<int>(C.block, int(tokens.size()) - 1), t = n - 1;
    const auto base = net.logits(tokens);
    const std::vector<double> before(base.begin() + t * V, base.begin() + (t + 1) * V);
    std::vector<int> seen;
    for (int s = 0; s < t; ++s) {
        document changed = tokens;
        changed[s] = (tokens[s] + 1) % bos;   // another letter
        const auto after = net.logits(changed);
        double change = 0;
        for (int i = 0; i < V; ++i) change = std::max(change, std::abs(after[t * V + i] - before[i]));
        if (change > rounding) seen.push_back(s);
    }
    return seen;
}

// What the mixer computes over many documents: which Plücker coordinates are always 0 or
// always equal to another one (up to rounding), the sizes of p and g, and alpha.
struct mixer_summary {
    int always_zero = 0, duplicates = 0;   // coordinates (of C(r,2))
    double mean_p_norm = 0, mean_g_norm = 0, mean_alpha = 0;
    int informative() const { return P - always_zero - duplicates; }
};

mixer_summary summarize(network& net, const std::vector<document>& docs) {
    std::array<double, P> largest{};                // max |p_hat_c|
    std::array<std::array<double, P>, P> apart{};   // max |p_hat_c - p_hat_e|
    mixer_summary s;
    long pairs = 0, positions = 0;
    for (const auto& doc : docs) {
        const auto v = look_inside(net, doc);
        for (int t = 1; t < v.n; ++t) {   // t = 0 has no pair
            for (int k = 0; k < K; ++k) {
                if (t - mixer_term::window[k] < 0) continue;
                double p[P];
                s.mean_p_norm +=
                    gflow::math::sqrt(plucker_coordinates<R>(v.z(t), v.z(t - mixer_term::window[k]), p));
                ++pairs;
                const double* ph = v.p_hat(t, k);
                for (int c = 0; c < P; ++c) {
                    largest[c] = std::max(largest[c], std::abs(ph[c]));
                    for (int e = 0; e < c; ++e) apart[c][e] = std::max(apart[c][e], std::abs(ph[c] - ph[e]));
                }
            }
            double g_sq = 0;
            for (int i = 0; i < d; ++i) {
                g_sq += v.g(t)[i] * v.g(t)[i];
                s.mean_alpha += v.alpha(t, i) / d;
            }
            s.mean_g_norm += gflow::math::sqrt(g_sq);
            ++positions;
        }
    }
    for (int c = 0; c < P; ++c) {
        if (largest[c] <= rounding) {
            ++s.always_zero;
            continue;
        }
        for (int e = 0; e < c; ++e)
            if (largest[e] > rounding && apart[c][e] <= rounding) {
                ++s.duplicates;
                break;
            }
    }
    s.mean_p_norm /= double(std::max(pairs, 1L));
    s.mean_g_norm /= double(std::max(positions, 1L));
    s.mean_alpha /= double(std::max(positions, 1L));
    return s;
}

// A vector as [+0.123, -0.456]; values below rounding are shown as 0.
std::string show(std::span<const double> v, int decimals = 3) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        s += fmt::format("{}{:+.{}f}", i ? ", " : "", std::abs(v[i]) <= rounding ? 0.0 : v[i], decimals);
    return s + "]";
}

// Values in [0, 1] (alpha): 0.268  0.360 ...
std::string show_fractions(std::span<const double> v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.3f}", i ? "  " : "", v[i]);
    return s;
}

struct options {
    std::string path;
    int steps = 3000;
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--steps") {
            if (i + 1 == argc) throw gflow::input_error("--steps needs a number");
            try {
                o.steps = std::stoi(argv[++i]);
            } catch (const std::exception&) {
                o.steps = -1;
            }
            if (o.steps < 1)
                throw gflow::input_error(fmt::format("--steps {}: give a positive number", argv[i]));
        } else if (arg.starts_with("--")) {
            throw gflow::input_error(
                fmt::format("unknown option {} (usage: trace_alpha [names.txt] [--steps N])", arg));
        } else {
            o.path = arg;
        }
    }
    o.path = gflow::bench::default_data_file("names.txt", o.path, "the path as an argument");
    return o;
}

}   // namespace

int main(int argc, char** argv) try {
    const options opt = parse(argc, argv);
    const corpus data = load(opt.path);
    const int bos = data.vocab.bos();
    const auto evaluation = eval_docs(data, opt.steps, 200);
    const auto many = eval_docs(data, opt.steps, 2000);
    const auto encode = [&](std::u32string_view word) {
        return gflow::io::encode(data.vocab, word, "trace_alpha", 0);
    };

    fmt::print("trace_alpha: how alpha is decided, and why W_red matters\n\n");
    fmt::print("The names Grassmann model (examples/names_model.hpp), trained {} steps on\n{} (seed 42).\n",
               opt.steps, opt.path);
    std::vector<network> nets;
    nets.reserve(reductions.size());
    nets.push_back(trained(data, opt.steps, reduction::free));
    network& net = nets.front();
    fmt::print("Its loss on the 200 evaluation names: {:.4f} per character.\n", eval_loss(net, evaluation));

    // =============================================================================================
    fmt::print("\n{:=<78}\nPart 1. How alpha is decided\n{:=<78}\n\n", "", "");
    fmt::print("  alpha = sigmoid(W_gate_h h + W_gate_g g)        out = alpha * h + (1 - alpha) * g\n\n"
               "W_gate_h and W_gate_g (16 x 16 each) are what training learns. alpha itself is not a\n"
               "parameter: it is computed again for every position and every dimension, from the\n"
               "current vector h and the geometry g. alpha near 1 keeps h, near 0 takes g.\n");

    const document hello = encode(U"hello");
    const auto v = look_inside(net, hello);
    const int t = 5;   // the 'o' of [BOS] h e l l o
    double from_h[d], from_g[d];
    gflow::kernels::matvec_rows<d, d>(net.parameter("layer0.W_gate_h").data(), v.h.data() + t * d, from_h, 1);
    gflow::kernels::matvec_rows<d, d>(net.parameter("layer0.W_gate_g").data(), v.g(t), from_g, 1);
    fmt::print("\n1.1 The 'o' of \"hello\" (model position 5), dimension by dimension:\n\n");
    fmt::print("     i  W_gate_h h  W_gate_g g      sum    alpha   the output takes\n");
    int mostly_h = 0;
    for (int i = 0; i < d; ++i) {
        const double alpha = v.alpha(t, i);
        mostly_h += alpha > 0.5;
        fmt::print("   {:>3} {:>+11.3f} {:>+11.3f} {:>+8.3f} {:>8.3f}   {:>3.0f}% h, {:>3.0f}% g\n", i,
                   from_h[i], from_g[i], from_h[i] + from_g[i], alpha, 100 * alpha, 100 * (1 - alpha));
    }
    double size_h = 0, size_g = 0;
    for (int i = 0; i < d; ++i) size_h += std::abs(from_h[i]) / d, size_g += std::abs(from_g[i]) / d;
    fmt::print("\n   {} of 16 dimensions keep mostly h, {} take mostly g. The mean size of the two\n"
               "   contributions: |W_gate_h h| {:.3f}, |W_gate_g g| {:.3f}.\n",
               mostly_h, d - mostly_h, size_h, size_g);

    fmt::print(
        "\n1.2 The same weights, other inputs: alpha along \"hello\" (mean over the 16 dimensions)\n\n");
    fmt::print("     t  token   |g|     mean alpha   dimensions with alpha > 0.5\n");
    for (int s = 0; s < v.n; ++s) {
        double g_sq = 0, mean = 0;
        int above = 0;
        for (int i = 0; i < d; ++i) {
            g_sq += v.g(s)[i] * v.g(s)[i];
            mean += v.alpha(s, i) / d;
            above += v.alpha(s, i) > 0.5;
        }
        fmt::print("   {:>3}  {:<5} {:>6.3f} {:>12.3f}   {:>2}\n", s,
                   hello[s] == bos ? "BOS" : gflow::io::decode_utf8(data.vocab, std::span(&hello[s], 1)),
                   gflow::math::sqrt(g_sq), mean, above);
    }
    fmt::print("\n   At t = 0 no earlier position exists: g = 0, so W_gate_g g = 0 and the gate\n"
               "   decides from h alone. From t = 1 on, g takes part in the decision.\n");

    fmt::print("\n1.3 Over the 200 evaluation names (every position t >= 1), mean alpha per dimension:\n\n");
    std::array<double, d> mean_alpha{};
    long positions = 0;
    for (const auto& doc : evaluation) {
        const auto e = look_inside(net, doc);
        for (int s = 1; s < e.n; ++s, ++positions)
            for (int i = 0; i < d; ++i) mean_alpha[i] += e.alpha(s, i);
    }
    for (auto& a : mean_alpha) a /= double(positions);
    fmt::print("   dims 0..7   {}\n   dims 8..15  {}\n", show_fractions(std::span(mean_alpha).first(8)),
               show_fractions(std::span(mean_alpha).last(8)));
    fmt::print("\n   The dimensions with a low mean alpha are where the model relies on the geometry\n"
               "   of the earlier characters; a high one, where the current character is enough.\n");

    // =============================================================================================
    fmt::print("\n{:=<78}\nPart 2. Why W_red matters\n{:=<78}\n\n", "", "");
    fmt::print("g can only carry what the reduction z = W_red h keeps. Plücker coordinates describe\n"
               "the plane of z_t and z_(t-delta); if W_red sends every h into a line, or merges two\n"
               "coordinates, that plane collapses. Three models, each trained {} steps from the\n"
               "same seed, with W_red\n\n"
               "  trained freely     the model of part 1\n"
               "  rows 0, 1 equal    row 1 forced equal to row 0 (so z[0] = z[1] always)\n"
               "  rank 1             every row forced equal to row 0 (so z = (c, c, c, c))\n\n"
               "(each constraint is applied again after every training step).\n",
               opt.steps);

    for (std::size_t m = 1; m < reductions.size(); ++m)
        nets.push_back(trained(data, opt.steps, reductions[m]));

    fmt::print("\n2.1 The pair ('o' at t = 5, 'l' at t = 4) of \"hello\" under each reduction:\n");
    for (std::size_t m = 0; m < nets.size(); ++m) {
        const auto w = look_inside(nets[m], hello);
        double p[P];
        const double sum_sq = plucker_coordinates<R>(w.z(5), w.z(4), p);
        fmt::print("\n   {}:\n     z_5 = {}   z_4 = {}\n", name_of(reductions[m]), show(std::span(w.z(5), R)),
                   show(std::span(w.z(4), R)));
        fmt::print("     p (p01 p02 p03 p12 p13 p23) = {}   |p| = {:.4f}\n", show(std::span(p, P), 4),
                   gflow::math::sqrt(sum_sq));
    }
    fmt::print("\n   (Shown as 0: values below 1e-9. The compiler fuses z[i]u[j] - z[j]u[i] into one\n"
               "   multiply-add, so an exact 0 comes out as about 1e-17: rounding, not information.)\n");
    fmt::print("\n   Rows 0 and 1 equal: p01 = z[0]u[1] - z[1]u[0] = 0, p02 = p12 and p03 = p13, so only\n"
               "   3 of the 6 numbers are free: the plane is seen in 3 dimensions instead of 4.\n"
               "   Rank 1: z_t and z_(t-delta) lie on the same line, every coordinate is 0, and\n"
               "   p / sqrt(|p|^2 + 1e-8) is 0 too: there is no plane left to describe.\n");

    fmt::print("\n2.2 What each mixer computes, and what it costs. 200 names measure a difference of\n"
               "    0.01 too roughly, so this part evaluates on the 2000 names after the training ones:\n\n");
    fmt::print("   {:<16} {:>12} {:>9} {:>8} {:>11} {:>11} {:>11}\n", "W_red", "informative", "mean |p|",
               "mean |g|", "mean alpha", "position 15", "eval loss");
    fmt::print("   {:<16} {:>12} {:>9} {:>8} {:>11} {:>11}\n", "", "coordinates", "", "", "", "sees");
    const document long_name = encode(U"christopherjohn");   // 16 positions
    std::vector<double> losses, alphas;
    for (std::size_t m = 0; m < nets.size(); ++m) {
        const auto s = summarize(nets[m], many);
        const auto seen = seen_by_last(nets[m], long_name, bos);
        losses.push_back(eval_loss(nets[m], many));
        alphas.push_back(s.mean_alpha);
        fmt::print("   {:<16} {:>7} of {} {:>9.4f} {:>8.4f} {:>11.3f} {:>7} of 15 {:>9.4f}\n",
                   name_of(reductions[m]), s.informative(), P, s.mean_p_norm, s.mean_g_norm, s.mean_alpha,
                   seen.size(), losses.back());
    }
    fmt::print("\n   (informative: coordinates of p_hat that are neither always 0 nor always equal to\n"
               "   another one; \"sees\": earlier positions whose token changes the logits at position\n"
               "   15 of \"christopherjohn\"; alpha and |g| over the positions t >= 1.)\n\n");
    fmt::print("   With rank 1, g is 0 and out = alpha * h: the mixer sees no earlier character, and\n"
               "   the model predicts from the current character and its position alone. Its mean\n"
               "   alpha is {:.3f}: with nothing to take from g, the gate only scales h, and the layer\n"
               "   adds that fraction of h to the residual stream.\n"
               "   The context-free model's loss minus the free W_red's: {:+.4f} per character;\n"
               "   minus that of the W_red with two equal rows: {:+.4f}. (Positive: the geometry\n"
               "   helps. It has to be learned: with --steps 300 the differences are noise.)\n",
               alphas[2], losses[2] - losses[0], losses[2] - losses[1]);

    fmt::print("\n2.3 The model of part 1, with its W_red made bad after training (no retraining):\n\n");
    const auto W_red = net.parameter("layer0.W_red");
    const std::vector<double> learned(W_red.begin(), W_red.end());
    std::vector<double> damaged;
    for (const reduction r : reductions) {
        constrain(net, r);
        const auto s = summarize(net, many);
        damaged.push_back(eval_loss(net, many));
        fmt::print("   {:<16} informative coordinates {} of {}, mean |g| {:.4f}, eval loss {:.4f}\n",
                   name_of(r), s.informative(), P, s.mean_g_norm, damaged.back());
        std::copy(learned.begin(), learned.end(), W_red.begin());
    }
    const double afterwards = damaged[2] - damaged[0], from_start = losses[2] - losses[0];
    fmt::print("\n   Making the trained model's W_red rank 1 afterwards raises its loss by {:+.4f} per\n"
               "   character; training with a rank-1 W_red from the start, by {:+.4f}{}\n",
               afterwards, from_start,
               afterwards > from_start
                   ? ":\n   the rest of the trained model was built around what g told it."
                   : ".");

    fmt::print("\nA reduction is good when its rows are different directions in the space of h, so\n"
               "that the planes of pairs (z_t, z_(t-delta)) differ from pair to pair. Training finds\n"
               "such rows; a W_red with equal (or proportional) rows throws the geometry away.\n");
    return 0;
} catch (const gflow::input_error& e) {
    fmt::print(stderr, "trace_alpha: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    fmt::print(stderr, "trace_alpha: {}\n", e.what());
    return 1;
}
