// tutorial.cpp: from attention to the Grassmann mixer in 14 steps, with real numbers.
//
// The microGrassmann reference teaches "Attention Is Not What You Need" (arXiv:2512.19428) with
// a 14-step tutorial. This is the same arc, but every number comes from gflow itself: the two
// names models of examples/names_model.hpp, trained here on names.txt, and their terms run on
// small buffers through gflow::bind<Term, dims, width>, so that each intermediate value can be
// read at the offset the term documents.
//
// Usage: tutorial [names.txt] [--steps N]
//   names.txt   default: the project's data/names.txt, found from any working directory
//   --steps N   training steps of each model (default 3000, the reference's benchmark)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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

// ---- the models and the terms this tutorial runs --------------------------------------------
using grassmann_model = decltype(names::model(names::grassmann_mixer));
using attention_model = decltype(names::model(names::attention_mixer));
using grassmann_term = std::remove_cvref_t<decltype(names::grassmann_mixer)>;
using attention_term = std::remove_cvref_t<decltype(names::attention_mixer)>;

constexpr gflow::dims C = grassmann_model::config;   // vocabulary 27, block 16, width 16
constexpr int d = C.width;
constexpr int V = C.vocab;

// The mixers bound to the names sizes: their activation offsets (z, phat, pbar, g, gate; att)
// are the documented places where the intermediate values live.
using grassmann_mixer = gflow::bind<grassmann_term, C, d>;
using attention_mixer = gflow::bind<attention_term, C, d>;
// What comes before layer 0's mixer in the names model: h = rmsnorm(rmsnorm(wte[tok] + wpe[t])).
using embedding_front = gflow::bind<decltype((token_embedding + position_embedding) >> rmsnorm), C, 0>;
using mixer_front = gflow::bind<decltype((token_embedding + position_embedding) >> rmsnorm >> rmsnorm), C, 0>;

using document = std::vector<int>;

struct options {
    std::string path;
    int steps = 3000;
};

// ---- printing -------------------------------------------------------------------------------
void section(int number, std::string_view title) {
    fmt::print("\n{:=<78}\n Step {} of 14. {}\n{:=<78}\n\n", "", number, title, "");
}

// A vector as [+0.123, -0.456, ...]; at most `shown` entries.
std::string show(std::span<const double> v, std::size_t shown = 8, int decimals = 3) {
    std::string s = "[";
    for (std::size_t i = 0; i < std::min(shown, v.size()); ++i)
        s += fmt::format("{}{:+.{}f}", i ? ", " : "", v[i], decimals);
    return s + (v.size() > shown ? ", ...]" : "]");
}

// Weights (no sign): 0.094 0.143 ...
std::string show_weights(std::span<const double> v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.3f}", i ? "  " : "", v[i]);
    return s;
}

// 1234567 -> "1,234,567"
std::string grouped(unsigned long long n) {
    std::string digits = fmt::format("{}", n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// ---- running one term on small buffers -------------------------------------------------------
// The forward pass of a bound term over n positions; its activation block is readable at the
// offsets the term documents.
struct term_run {
    std::vector<double> act, out;
    const double* at(std::size_t offset) const { return act.data() + offset; }
};

template <class Impl>
term_run run_term(const double* w, const double* x, int n, const int* tokens = nullptr) {
    term_run r{std::vector<double>(Impl::act_size), std::vector<double>(std::size_t(n) * Impl::out_width)};
    Impl::forward(gflow::pass{n, tokens, 0}, w, r.act.data(), x, r.out.data());
    return r;
}

// The rows [n][d] that layer 0's mixer receives, computed with the network's own wte and wpe
// (the first two parameter blocks of the model, in the front's own order).
template <class Net>
std::vector<double> mixer_input(Net& net, const document& tokens, int n) {
    return run_term<mixer_front>(net.parameter("wte").data(), nullptr, n, tokens.data()).out;
}

// Layer 0's mixer on the rows h, with the network's weights: the mixer's parameter block starts
// at its first parameter (layer0.W_red for grassmann, layer0.attn_wq for attention).
template <class Impl, class Net>
term_run run_mixer(Net& net, std::string_view first_param, const std::vector<double>& h, int n) {
    return run_term<Impl>(net.parameter(fmt::format("layer0.{}", first_param)).data(), h.data(), n);
}

// ---- data and training ----------------------------------------------------------------------
struct corpus {
    gflow::io::vocabulary vocab;
    std::vector<document> docs;   // shuffled
    std::string label(int token) const {
        return token == vocab.bos() ? "BOS" : gflow::io::to_utf8(std::u32string(1, vocab.symbol(token)));
    }
    document encode(std::u32string_view word) const { return gflow::io::encode(vocab, word, "tutorial", 0); }
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

// The benchmarks' training (docs/benchmarks.md#training-schedule): document s mod N at step s, Adam
// with linear decay. Returns µs per step.
template <class Net>
double train(Net& net, const corpus& data, int steps) {
    const gflow::adam adam{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = steps};
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) net.train_step(data.docs[std::size_t(s) % data.docs.size()], adam, s);
    const std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
    return spent.count() / std::max(steps, 1);
}

// The benchmarks' evaluation (docs/benchmarks.md#evaluation-and-sampling): the 200 documents after the
// training ones, loss per predicted token.
template <class Net>
double eval_loss(Net& net, const corpus& data, int steps) {
    double total = 0;
    long tokens = 0;
    for (std::size_t k = 0; k < 200; ++k) {
        const auto [sum, n] = net.loss_sum(data.docs[(std::size_t(steps) + k) % data.docs.size()]);
        total += sum;
        tokens += n;
    }
    return total / double(tokens);
}

// seen[t][s]: does the token at position s < t change the logits at position t? Found by
// changing that one token and running the network's forward again.
template <class Net>
std::vector<std::vector<bool>> influence(Net& net, const document& tokens, int bos) {
    const int n = std::min<int>(C.block, int(tokens.size()) - 1);
    const auto base_span = net.logits(tokens);
    const std::vector<double> base(base_span.begin(), base_span.end());
    std::vector<std::vector<bool>> seen(n, std::vector<bool>(n, false));
    for (int s = 0; s < n; ++s) {
        document changed = tokens;
        changed[s] = (tokens[s] + 1) % bos;   // another letter
        const auto logits = net.logits(changed);
        for (int t = s + 1; t < n; ++t)
            for (int i = 0; i < V; ++i)
                if (logits[std::size_t(t) * V + i] != base[std::size_t(t) * V + i]) seen[t][s] = true;
    }
    return seen;
}

template <int Layers, class Mixer>
std::vector<int> seen_by_last_position(Mixer mixer, const document& tokens, int bos) {
    auto net = gflow::instantiate<double>(names::model<Layers>(mixer), 3);
    const auto seen = influence(net, tokens, bos);
    std::vector<int> out;
    for (int s = 0; s + 1 < int(seen.size()); ++s)
        if (seen.back()[s]) out.push_back(s);
    return out;
}

// Fastest of five forward passes of a bound mixer over L positions (f32), in µs.
template <class Impl>
double forward_microseconds(int L) {
    gflow::rng gen(7);
    std::vector<float> w(Impl::param_size), h(std::size_t(L) * d), a(Impl::act_size), y(h.size());
    for (auto& v : w) v = float(0.3 * gen.normal());
    for (auto& v : h) v = float(gen.normal());
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        Impl::forward(gflow::pass{L, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
        const std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
        best = std::min(best, spent.count());
    }
    return best;
}

template <int L>
void cost_row(bool measure) {
    constexpr gflow::dims sizes{V, L, d};
    using G = gflow::bind<grassmann_term, sizes, d>;
    using A = gflow::bind<attention_term, sizes, d>;
    const unsigned long long attention_pairs = 1ull * L * (L + 1) / 2;
    unsigned long long grassmann_pairs = 0;
    for (int t = 0; t < L; ++t)
        for (int delta : grassmann_term::window) grassmann_pairs += (t - delta >= 0);
    const double mib = 4.0 / (1 << 20);   // f32 scalars to MiB
    std::string times = "   (not run: too much memory)";
    if (measure)
        times = fmt::format("{:>12.1f} {:>10.1f}", forward_microseconds<A>(L), forward_microseconds<G>(L));
    fmt::print("  {:>5} {:>11} {:>9} {:>9.0f}x {:>9.2f} {:>7.2f}  {}\n", L, grouped(attention_pairs),
               grouped(grassmann_pairs), double(attention_pairs) / double(grassmann_pairs), A::act_size * mib,
               G::act_size * mib, times);
}

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
                fmt::format("unknown option {} (usage: tutorial [names.txt] [--steps N])", arg));
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

    fmt::print("gflow tutorial: from attention to the Grassmann mixer, in 14 steps\n\n");
    fmt::print("Both names models of examples/names_model.hpp are trained first, {} steps each,\n"
               "on {}: the numbers below come from models that have learned.\n",
               opt.steps, opt.path);
    auto gnet = gflow::instantiate<double>(names::model(names::grassmann_mixer), 42);
    auto anet = gflow::instantiate<double>(names::model(names::attention_mixer), 42);
    const double g_before = eval_loss(gnet, data, opt.steps), a_before = eval_loss(anet, data, opt.steps);
    const double g_us = train(gnet, data, opt.steps), a_us = train(anet, data, opt.steps);

    // --------------------------------------------------------------------------------------------
    section(1, "The task: predict the next character of a name");
    fmt::print("names.txt holds {} names. The model reads one name at a time and, at each\n"
               "position, predicts the character that comes next. A name is wrapped in BOS\n"
               "(\"beginning/end of sequence\") tokens: BOS starts it, and predicting BOS ends it.\n\n",
               grouped(data.docs.size()));
    std::string symbols;
    for (int tok = 0; tok < bos; ++tok) symbols += data.label(tok);
    fmt::print("Vocabulary: {} letters \"{}\" (tokens 0..{}) and BOS = {}: V = {}.\n\n", bos, symbols,
               bos - 1, bos, V);
    const document emma = data.encode(U"emma");
    fmt::print("\"emma\" becomes the tokens {} and gives {} predictions:\n", fmt::join(emma, " "),
               emma.size() - 1);
    for (std::size_t t = 0; t + 1 < emma.size(); ++t) {
        std::string context;
        for (std::size_t s = 0; s <= t; ++s) {
            if (s > 0) context += ' ';
            context += data.label(emma[s]);
        }
        fmt::print("  position {}: seen [{}]{:<{}} -> predict {}\n", t, context, "", 16 - context.size(),
                   data.label(emma[t + 1]));
    }
    fmt::print("\nHow a model uses the characters it has already seen is exactly where attention\n"
               "and the Grassmann mixer differ.\n");

    // --------------------------------------------------------------------------------------------
    section(2, "Embeddings: a character becomes a vector");
    const document hello = data.encode(U"hello");
    const int n = int(hello.size()) - 1;   // positions 0..5: BOS h e l l o
    fmt::print("\"hello\" is the tokens {}. Each token at position t is looked up in two tables\n"
               "of the model: wte (V x d = {} x {}, one row per token) and wpe ({} x {}, one row per\n"
               "position). Their sum is normalised (rmsnorm: divide by the root mean square):\n\n",
               fmt::join(hello, " "), V, d, C.block, d);
    const auto x = run_term<embedding_front>(gnet.parameter("wte").data(), nullptr, n, hello.data()).out;
    const auto wte = gnet.parameter("wte"), wpe = gnet.parameter("wpe");
    const std::vector<double> wte_h(wte.begin() + hello[1] * d, wte.begin() + (hello[1] + 1) * d);
    const std::vector<double> wpe_1(wpe.begin() + 1 * d, wpe.begin() + 2 * d);
    fmt::print("  wte[h]                 = {}\n", show(wte_h, 6));
    fmt::print("  wpe[1]                 = {}\n", show(wpe_1, 6));
    fmt::print("  rmsnorm(wte[h]+wpe[1]) = {}   (16 numbers in all)\n\n",
               show(std::span(x).subspan(d, d), 6));
    fmt::print("The tables start random (Normal(0, 0.08^2)); training moves them so that characters\n"
               "that behave alike get similar vectors. These are the trained values.\n");

    // --------------------------------------------------------------------------------------------
    section(3, "Simple averaging: look at every earlier character equally");
    const auto ah = mixer_input(anet, hello, n);
    fmt::print("Predicting what follows the 'o' of \"hello\" (position 5) from 'o' alone is not\n"
               "enough: the model must use the characters before it. The simplest way: average\n"
               "the vectors of positions 0..t. That is attention with every score equal, so gflow's\n"
               "attention term computes it when W_q = W_k = 0 and W_v = W_o = identity:\n\n");
    {
        using A1 = gflow::bind<gflow::terms::attention_t<1>, C, d>;
        std::vector<double> w(A1::param_size, 0.0);
        for (int i = 0; i < d; ++i) w[A1::Wv + i * d + i] = w[A1::Wo + i * d + i] = 1.0;
        const auto avg = run_term<A1>(w.data(), ah.data(), n);
        const double* weights = avg.at(A1::att + 5 * C.block);
        fmt::print("  weights at position 5: {}\n", show_weights(std::span(weights, 6)));
        fmt::print("  average at position 5: {}\n\n", show(std::span(avg.out).subspan(5 * d, d)));
    }
    fmt::print("Every earlier character counts the same, whatever it is and however far back: the\n"
               "'h' four places back weighs as much as the 'l' just before.\n");

    // --------------------------------------------------------------------------------------------
    section(4, "Attention: a weighted average");
    const auto att = run_mixer<attention_mixer>(anet, "attn_wq", ah, n);
    fmt::print("Attention lets each position choose its weights. Position t forms a query\n"
               "q = W_q h_t, every position s <= t a key k = W_k h_s and a value v = W_v h_s; the\n"
               "weights are softmax_s(q . k_s / sqrt({})) and the output is the weighted sum of the\n"
               "values. The names model has {} heads of {} dimensions, each with its own weights.\n"
               "The trained model's weights of head 0 on \"hello\" (row t: how much t takes from s):\n\n",
               attention_mixer::D, attention_term::heads, attention_mixer::D);
    fmt::print("           s=0 BOS");
    for (int s = 1; s < n; ++s) fmt::print("  s={} {}", s, data.label(hello[s]));
    fmt::print("\n");
    for (int t = 0; t < n; ++t) {
        fmt::print("  t={} {:<3} ", t, data.label(hello[t]));
        for (int s = 0; s <= t; ++s) fmt::print("{:>7.3f}", att.at(attention_mixer::att + t * C.block)[s]);
        fmt::print("\n");
    }
    fmt::print("\nAt position 5 ('o') the four heads weigh the six positions differently:\n");
    for (int hd = 0; hd < attention_term::heads; ++hd)
        fmt::print("  head {}: {}\n", hd,
                   show_weights(std::span(att.at(attention_mixer::att + (hd * C.block + 5) * C.block), 6)));
    fmt::print("\nEach row sums to 1: attention is still an average, but a learned, weighted one.\n");

    // --------------------------------------------------------------------------------------------
    section(5, "The cost of attention grows with the square of the length");
    fmt::print("Attention compares position t with every s <= t: L(L+1)/2 pairs per head for a\n"
               "sequence of L positions, and it stores their weights. The Grassmann mixer pairs t\n"
               "only with t - delta for the {} offsets of its window: at most {} L pairs. Pairs,\n"
               "activation memory of one layer (from the terms' own act_size), and the fastest of\n"
               "five forward passes of gflow's two mixers (d = 16, f32):\n\n",
               grassmann_term::K, grassmann_term::K);
    fmt::print("  {:>5} {:>11} {:>9} {:>10} {:>9} {:>7}  {:>12} {:>10}\n", "L", "attention", "Grassmann",
               "ratio", "attn MiB", "G MiB", "attention us", "G us");
    fmt::print("  {:>5} {:>11} {:>9}\n", "", "pairs", "pairs");
    cost_row<16>(true);
    cost_row<64>(true);
    cost_row<256>(true);
    cost_row<1024>(true);
    cost_row<4096>(false);
    fmt::print("\nDoubling L doubles the Grassmann mixer's work and quadruples attention's: O(L)\n"
               "against O(L^2).\n");

    // --------------------------------------------------------------------------------------------
    section(6, "The Grassmann mixer in three steps");
    const auto gh = mixer_input(gnet, hello, n);
    const auto grs = run_mixer<grassmann_mixer>(gnet, "W_red", gh, n);
    // the gate W_gate_h h + W_gate_g g: the mixer keeps its two products, added in its mix loop
    const auto gate_at = [&](int i) { return grs.at(grassmann_mixer::gate_h)[i] + grs.at(grassmann_mixer::gate_g)[i]; };
    fmt::print("The paper replaces the weighted average by geometry. For each position t:\n\n"
               "  A. reduce:   z_t = W_red h_t                     d = {} -> r = {}\n"
               "  B. Plücker:  p = plucker(z_t, z_(t-delta)) for each offset delta of the window,\n"
               "               normalised, averaged, and mapped back: g = W_plu mean(p/|p|)\n"
               "  C. gate:     alpha = sigmoid(W_gate_h h_t + W_gate_g g)\n"
               "               out   = alpha * h_t + (1 - alpha) * g\n\n"
               "Its parameters in the trained model (names and shapes from the library):\n",
               d, grassmann_term::r);
    for (const auto& p : gnet.parameter_table())
        if (p.name.starts_with("layer0.W_"))
            fmt::print("  {:<16} {:>2} x {:<2} = {:>3} numbers\n", p.name, p.rows, p.cols, p.rows * p.cols);

    // --------------------------------------------------------------------------------------------
    section(7, "Step A: reduce each vector with W_red");
    fmt::print("Step B pairs every two coordinates of z, so its size grows with r squared:\n"
               "C(r,2) = {} pairs for r = 4, {} for r = 16, {} for r = 64. The names model reduces\n"
               "d = 16 to r = 4 first. z_t = W_red h_t for \"hello\" (the mixer's own z buffer):\n\n",
               gflow::terms::grassmann_t<4, 1>::pairs, gflow::terms::grassmann_t<16, 1>::pairs,
               gflow::terms::grassmann_t<64, 1>::pairs);
    for (int t = 0; t < n; ++t)
        fmt::print("  t={} {:<3}  h = {}  ->  z = {}\n", t, data.label(hello[t]),
                   show(std::span(gh).subspan(t * d, d), 3),
                   show(std::span(grs.at(grassmann_mixer::z + t * grassmann_term::r), grassmann_term::r)));

    // --------------------------------------------------------------------------------------------
    section(8, "Step B: Plücker coordinates of the pair (z_t, z_(t-delta))");
    constexpr int R = grassmann_term::r, P = grassmann_term::pairs, K = grassmann_term::K;
    const double* z5 = grs.at(grassmann_mixer::z + 5 * R);
    const double* z4 = grs.at(grassmann_mixer::z + 4 * R);
    double p[P];
    const double ss = plucker_coordinates<R>(z5, z4, p);
    fmt::print("For the 'o' (t = 5) and the 'l' just before it (delta = 1, t - delta = 4), with\n"
               "gflow::terms::plucker_coordinates<4>: p_ij = z5[i] z4[j] - z5[j] z4[i], i < j.\n\n");
    for (int c = 0; c < P; ++c) {
        const auto [i, j] = grassmann_mixer::pair_index[c];
        fmt::print("  p_{}{} = ({:+.3f})({:+.3f}) - ({:+.3f})({:+.3f}) = {:+.4f}\n", i, j, z5[i], z4[j],
                   z5[j], z4[i], p[c]);
    }
    fmt::print("\n  |p| = sqrt(sum p^2 + 1e-8) = {:.4f}; the mixer keeps only the direction p/|p|.\n\n",
               gflow::math::sqrt(ss + 1e-8));
    fmt::print("At t = 5 the offsets 1, 2 and 4 exist (positions 4, 3 and 1); 8, 12 and 16 would\n"
               "reach before position 0. The mixer's p/|p| for each, their mean, and g = W_plu mean:\n\n");
    for (int k = 0; k < K; ++k) {
        const int delta = grassmann_term::window[k];
        if (5 - delta < 0) continue;
        fmt::print("  delta={:<2} with '{}' (t={}): p/|p| = {}\n", delta, data.label(hello[5 - delta]),
                   5 - delta, show(std::span(grs.at(grassmann_mixer::phat + (5 * K + k) * P), P)));
    }
    fmt::print("  mean                   = {}\n", show(std::span(grs.at(grassmann_mixer::pbar + 5 * P), P)));
    fmt::print("  g = W_plu mean         = {}\n\n", show(std::span(grs.at(grassmann_mixer::g + 5 * d), d)));
    fmt::print("g summarises how the 'o' sits, as a plane, with the characters at the window's\n"
               "offsets. (W_plu is linear, so mapping the mean equals the mean of the mapped.)\n");

    // --------------------------------------------------------------------------------------------
    section(9, "Why Plücker coordinates carry more than a dot product");
    const double u1[3] = {1, 2, 0}, v1[3] = {2, 1, 0}, u2[3] = {1, 0, 2}, v2[3] = {2, 0, 1};
    double dot1 = 0, dot2 = 0, p1[3], p2[3];
    gflow::kernels::matvec_rows<1, 3>(u1, v1, &dot1, 1);   // a 1 x 3 matrix times a vector: u . v
    gflow::kernels::matvec_rows<1, 3>(u2, v2, &dot2, 1);
    plucker_coordinates<3>(u1, v1, p1);
    plucker_coordinates<3>(u2, v2, p2);
    fmt::print("Attention relates two vectors by one number, their dot product. Plücker\n"
               "coordinates give C(r,2) numbers: the signed areas of the parallelogram the two\n"
               "vectors span, projected on each coordinate plane. Two pairs in 3-D:\n\n");
    fmt::print("                                         dot   Plücker (p01, p02, p12)\n");
    fmt::print("  pair 1: u = (1, 2, 0), v = (2, 1, 0)   {:>3}   ({}, {}, {})\n", dot1, p1[0], p1[1], p1[2]);
    fmt::print("  pair 2: u = (1, 0, 2), v = (2, 0, 1)   {:>3}   ({}, {}, {})\n\n", dot2, p2[0], p2[1],
               p2[2]);
    fmt::print("The dot products are equal; the coordinates are not: pair 1 spans the xy plane,\n"
               "pair 2 the xz plane. A score cannot tell them apart, the Plücker vector can.\n"
               "Two more facts, from the same function:\n");
    const double w1[3] = {v1[0] + 2 * u1[0], v1[1] + 2 * u1[1], v1[2] + 2 * u1[2]};
    double swapped[3], sheared[3];
    plucker_coordinates<3>(v1, u1, swapped);
    plucker_coordinates<3>(u1, w1, sheared);
    const auto coordinates = [](const double* c) { return fmt::format("({}, {}, {})", c[0], c[1], c[2]); };
    fmt::print("  pair 1, u and v swapped:      {:<12} the plane is oriented: the signs flip\n",
               coordinates(swapped));
    fmt::print("  pair 1, v replaced by v + 2u: {:<12} same plane, same area: unchanged\n",
               coordinates(sheared));
    fmt::print("(examples/teaching/visualize_plucker draws these areas.)\n");

    // --------------------------------------------------------------------------------------------
    section(10, "Windows: which earlier positions a position sees");
    const document long_name = data.encode(U"christopherjohn");   // 15 letters: 16 positions
    const auto g_seen = influence(gnet, long_name, bos);
    const auto a_seen = influence(anet, long_name, bos);
    fmt::print("With the window [{}], position t pairs with t-1, t-2, t-4, t-8,\n"
               "t-12 and t-16, those that exist. Measured on the trained model: change the token\n"
               "at s and see whether the logits at t change (# = they do, . = they do not, * = t):\n\n",
               fmt::join(grassmann_term::window, ", "));
    fmt::print("        s:");
    for (int s = 0; s < int(g_seen.size()); ++s) fmt::print("{:>3}", s);
    fmt::print("\n");
    int a_pairs = 0, g_pairs = 0, all_pairs = 0;
    for (int t = 0; t < int(g_seen.size()); ++t) {
        fmt::print("  t = {:>2}  ", t);
        for (int s = 0; s <= t; ++s) {
            fmt::print("{:>3}", s == t ? "*" : g_seen[t][s] ? "#" : ".");
            if (s < t) g_pairs += g_seen[t][s], a_pairs += a_seen[t][s], ++all_pairs;
        }
        fmt::print("\n");
    }
    fmt::print("\nThe Grassmann model sees {} of the {} (t, s) pairs; the same test on the\n"
               "attention model finds {} of {}: every earlier position.\n",
               g_pairs, all_pairs, a_pairs, all_pairs);

    // --------------------------------------------------------------------------------------------
    section(11, "Stacking layers widens the window");
    fmt::print("Layer 2 pairs t with t - delta, whose vector layer 1 already mixed with\n"
               "t - delta - delta'. The window composes like stacked convolutions. Position 15 of\n"
               "the same name, in untrained models of 1, 2 and 3 layers (same influence test):\n\n");
    const auto print_seen = [](std::string_view label, const std::vector<int>& s) {
        fmt::print("  {:<26} sees {:>2} of 15: {}\n", label, s.size(), fmt::join(s, " "));
    };
    constexpr auto small = grassmann<4>(offsets<1, 2>);
    print_seen("window [1, 2],  1 layer", seen_by_last_position<1>(small, long_name, bos));
    print_seen("window [1, 2],  2 layers", seen_by_last_position<2>(small, long_name, bos));
    print_seen("window [1, 2],  3 layers", seen_by_last_position<3>(small, long_name, bos));
    print_seen("names window,   1 layer", seen_by_last_position<1>(names::grassmann_mixer, long_name, bos));
    print_seen("names window,   2 layers", seen_by_last_position<2>(names::grassmann_mixer, long_name, bos));
    print_seen("names window,   3 layers", seen_by_last_position<3>(names::grassmann_mixer, long_name, bos));
    fmt::print("\nThe paper uses 6 to 12 layers; the reference one, and so does benchmark 1 of\n"
               "docs/benchmarks.md.\n");

    // --------------------------------------------------------------------------------------------
    section(12, "Step C: the gate decides, per dimension, how much of h and of g to keep");
    fmt::print("alpha = sigmoid(W_gate_h h + W_gate_g g) is computed for each position and each of\n"
               "the d = 16 dimensions; out = alpha * h + (1 - alpha) * g. For the 'o' (t = 5):\n\n");
    fmt::print("  dim        h        g     gate    alpha  alpha*h  (1-alpha)*g      out\n");
    for (int i = 0; i < d; ++i) {
        const double hi = gh[5 * d + i], gi = grs.at(grassmann_mixer::g)[5 * d + i];
        const double alpha = gflow::math::sigmoid(gate_at(5 * d + i));
        fmt::print("  {:>3} {:>+8.3f} {:>+8.3f} {:>+8.3f} {:>8.3f} {:>+8.3f} {:>+12.3f} {:>+8.3f}  {}\n", i,
                   hi, gi, gate_at(5 * d + i), alpha, alpha * hi, (1 - alpha) * gi,
                   grs.out[5 * d + i], alpha > 0.5 ? "mostly h" : "mostly g");
    }
    double alpha_first = 0, alpha_rest = 0;
    for (int i = 0; i < d; ++i) alpha_first += gflow::math::sigmoid(gate_at(i)) / d;
    for (int t = 1; t < n; ++t)
        for (int i = 0; i < d; ++i)
            alpha_rest += gflow::math::sigmoid(gate_at(t * d + i)) / (d * (n - 1));
    fmt::print("\nAt t = 0 no offset exists, g = 0 and the gate sees h alone (mean alpha {:.3f});\n"
               "at t = 1..5 the mean alpha is {:.3f}. alpha is not a parameter: W_gate_h and\n"
               "W_gate_g are, and alpha is recomputed for every position (trace_alpha shows how).\n",
               alpha_first, alpha_rest);

    // --------------------------------------------------------------------------------------------
    section(13, "The whole pipeline, as one gflow expression");
    fmt::print("examples/names_model.hpp writes the names model (docs/benchmarks.md#names) as one\n"
               "expression; the mixer is one word (names::grassmann_mixer or names::attention_mixer):\n\n"
               "  gflow::model<vocab<27>, block<16>, width<16>>(\n"
               "      (token_embedding + position_embedding) >> rmsnorm\n"
               "      >> repeat<Layers>(residual(rmsnorm >> mixer)\n"
               "                     >> residual(rmsnorm >> ffn<4>(relu)))\n"
               "      >> lm_head)\n\n"
               "  mixer = grassmann<4>(offsets<1, 2, 4, 8, 12, 16>)   or   attention<4>\n\n"
               "The library's summary of the Grassmann model (widths in -> out, parameters):\n\n");
    const auto summary = grassmann_model::summary();
    std::size_t label_width = 0;
    for (const auto& row : summary) label_width = std::max(label_width, 2 * row.depth + row.label.size());
    for (const auto& row : summary) {
        const std::string line = fmt::format("  {:<{}}{:<{}}  {:>3} -> {:<3} {:>6}", "", 2 * row.depth,
                                             row.label, label_width - 2 * row.depth, row.in_width,
                                             row.out_width, row.params ? grouped(row.params) : "");
        fmt::print("{}\n", line.substr(0, line.find_last_not_of(' ') + 1));
    }
    fmt::print("\nParameters: Grassmann {}, attention {} (the reference: 3,840 and 4,192).\n",
               grouped(grassmann_model::parameter_count()), grouped(attention_model::parameter_count()));
    fmt::print("Memory kept per layer while generating: Grassmann {} numbers (its last {} z\n"
               "vectors), attention {} (keys and values of every earlier position).\n",
               grassmann_model::decode_state_count(), grassmann_term::max_offset,
               attention_model::decode_state_count());

    // --------------------------------------------------------------------------------------------
    section(14, "The comparison: both mixers trained the same way");
    const double g_after = eval_loss(gnet, data, opt.steps), a_after = eval_loss(anet, data, opt.steps);
    fmt::print("Each model trained {} steps (one name per step, Adam, lr 0.01 decaying to 0), then\n"
               "evaluated on the 200 names that follow the training ones (loss per character):\n\n",
               opt.steps);
    fmt::print("  {:<10} {:>10} {:>14} {:>13} {:>12}\n", "mixer", "parameters", "loss untrained",
               "loss trained", "us per step");
    fmt::print("  {:<10} {:>10} {:>14.4f} {:>13.4f} {:>12.1f}\n", "attention",
               grouped(attention_model::parameter_count()), a_before, a_after, a_us);
    fmt::print("  {:<10} {:>10} {:>14.4f} {:>13.4f} {:>12.1f}\n\n", "Grassmann",
               grouped(grassmann_model::parameter_count()), g_before, g_after, g_us);
    fmt::print("The reference (pure Python, 3000 steps) reports 2.3090 for attention and 2.3097 for\n"
               "Grassmann; an untrained model is near ln(27) = {:.4f}. Names each model generates\n"
               "(temperature 0.5):\n\n",
               gflow::math::log(27.0));
    gflow::rng sampler(7);
    std::string a_names, g_names;
    for (int i = 0; i < 6; ++i) {
        a_names += " " + gflow::io::decode_utf8(data.vocab, anet.sample(sampler, bos));
        g_names += " " + gflow::io::decode_utf8(data.vocab, gnet.sample(sampler, bos));
    }
    fmt::print("  attention:{}\n  Grassmann:{}\n\n", a_names, g_names);
    const double gap = 100.0 * (g_after - a_after) / a_after;
    const double fewer =
        100.0 * (1.0 - double(grassmann_model::parameter_count()) / attention_model::parameter_count());
    fmt::print("Here the Grassmann model's loss is {:.1f}% {} attention's, with {:.0f}% fewer\n"
               "parameters and a cost linear in the length. Next: trace_g follows one g number by\n"
               "number, trace_alpha the gate and W_red; minimal is the whole program in 56 lines.\n",
               std::abs(gap), gap > 0 ? "above" : "below", fewer);
    return 0;
} catch (const gflow::input_error& e) {
    fmt::print(stderr, "tutorial: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    fmt::print(stderr, "tutorial: {}\n", e.what());
    return 1;
}
