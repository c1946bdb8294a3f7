// trace_g.cpp: how the Grassmann mixer builds g for the 'o' of "hello", number by number.
//
// The names model (examples/names_model.hpp) is instantiated with a fixed seed. The trace
// computes each quantity of the formulas of docs/benchmarks.md#grassmann-mixer one at a time with
// gflow's own pieces (kernels::matvec_rows, terms::plucker_coordinates, math::sqrt, math::sigmoid),
// then checks every printed number against what the mixer's forward pass stored in its activation
// buffers, and the final output against the network's logits.
//
// Usage: trace_g [--seed N]        (default seed 1)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <gflow/gflow.hpp>
#include <gflow/io/text_data.hpp>

#include "names_model.hpp"

namespace {

using namespace gflow::terms;

using model_type = decltype(names::model(names::grassmann_mixer));
using mixer_term = std::remove_cvref_t<decltype(names::grassmann_mixer)>;
constexpr gflow::dims C = model_type::config;
constexpr int d = C.width, V = C.vocab;
constexpr int R = mixer_term::r, P = mixer_term::pairs, K = mixer_term::K;

// The model, cut where the trace looks inside it:
//   x   = rmsnorm(wte[token] + wpe[t])                           front
//   h   = rmsnorm(x)                                              the mixer's input
//   out = grassmann(h)                                            the mixer (traced here)
//   logits = (residual(rmsnorm >> ffn<4>(relu)) >> lm_head)(x + out)    back
using front = gflow::bind<decltype((token_embedding + position_embedding) >> rmsnorm), C, 0>;
using norm = gflow::bind<decltype(rmsnorm), C, d>;
using mixer = gflow::bind<mixer_term, C, d>;
using back = gflow::bind<decltype(residual(rmsnorm >> ffn<4>(relu)) >> lm_head), C, d>;

constexpr int t = 5;   // the 'o' of [BOS] h e l l o

std::string show(std::span<const double> v, int decimals = 4) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:+.{}f}", i ? ", " : "", v[i], decimals);
    return s + "]";
}

// Largest difference between what the trace computed and what the mixer stored, and whether
// they agree (up to the rounding of a different order of operations).
struct agreement {
    double largest = 0;
    bool ok = true;
    void compare(std::span<const double> traced, const double* stored) {
        for (std::size_t i = 0; i < traced.size(); ++i) {
            const double diff = std::abs(traced[i] - stored[i]);
            largest = std::max(largest, diff);
            ok = ok && diff <= 1e-12 * std::max(1.0, std::abs(stored[i]));
        }
    }
    void report(std::string_view what, std::string_view source = "the mixer's forward") const {
        fmt::print("   {:<31} matches {}: {} (differs by at most {:.1e})\n", what, source, ok ? "yes" : "no",
                   largest);
    }
};

std::uint64_t parse_seed(int argc, char** argv) {
    std::uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--seed") {
            if (i + 1 == argc) throw gflow::input_error("--seed needs a number");
            try {
                seed = std::stoull(argv[++i]);
            } catch (const std::exception&) {
                throw gflow::input_error(fmt::format("--seed {}: give a non-negative integer", argv[i]));
            }
        } else {
            throw gflow::input_error(fmt::format("unknown argument {} (usage: trace_g [--seed N])", arg));
        }
    }
    return seed;
}

}   // namespace

int main(int argc, char** argv) try {
    const std::uint64_t seed = parse_seed(argc, argv);
    auto net = gflow::instantiate<double>(model_type{}, seed);

    // The names vocabulary: a..z are tokens 0..25, BOS is 26 (docs/benchmarks.md#names; the sorted
    // letters of names.txt).
    std::vector<char32_t> letters;
    for (char32_t c = U'a'; c <= U'z'; ++c) letters.push_back(c);
    const auto vocab = gflow::io::vocabulary::from_symbols(letters);
    const std::vector<int> tokens = gflow::io::encode(vocab, U"hello", "trace_g", 0);   // BOS h e l l o BOS
    const int n = int(tokens.size()) - 1;                                               // 6 positions
    const auto label = [&](int s) {
        return tokens[s] == vocab.bos() ? std::string("BOS")
                                        : gflow::io::to_utf8(std::u32string(1, vocab.symbol(tokens[s])));
    };

    // The forward passes of the pieces, on the network's own weights.
    std::vector<double> front_act(front::act_size), x(std::size_t(n) * d);
    front::forward(gflow::pass{n, tokens.data(), 0}, net.parameter("wte").data(), front_act.data(),
                   static_cast<const double*>(nullptr), x.data());
    std::vector<double> norm_act(norm::act_size), h(x.size());
    norm::forward(gflow::pass{n, nullptr, 0}, static_cast<const double*>(nullptr), norm_act.data(), x.data(),
                  h.data());
    const double* w = net.parameter("layer0.W_red").data();   // the mixer's parameter block starts here
    std::vector<double> act(mixer::act_size), out(x.size());
    mixer::forward(gflow::pass{n, nullptr, 0}, w, act.data(), h.data(), out.data());

    const double* W_red = w + mixer::param("W_red");
    const double* W_plu = w + mixer::param("W_plu");
    const double* W_gate_h = w + mixer::param("W_gate_h");
    const double* W_gate_g = w + mixer::param("W_gate_g");
    const std::span<const double> h_t(h.data() + t * d, d);

    fmt::print("trace_g: how the Grassmann mixer builds g for the 'o' of \"hello\", number by number\n\n");
    fmt::print("The model: the names model of examples/names_model.hpp (d = {}, r = {}, window [{}]),\n"
               "weights from gflow::instantiate<double>(model, seed {}): untrained, every weight drawn\n"
               "from Normal(0, 0.08^2).\n\n",
               d, R, fmt::join(mixer_term::window, ", "), seed);
    fmt::print("Which 'o'. The reference counts the characters of \"hello\" from 0 without BOS:\n"
               "h = 0, e = 1, l = 2, l = 3, o = 4, hence \"the o at position 4\". gflow's model reads a\n"
               "BOS token first, so the same 'o' is at model position t = 5:\n\n");
    std::string positions, names;
    for (int s = 0; s < n; ++s) {
        positions += fmt::format("{}{:<3}", s ? "  " : "", s);
        names += fmt::format("{}{:<3}", s ? "  " : "", label(s));
    }
    fmt::print("  model position t:  {}\n  token:             {}  <- current: t = 5\n\n",
               positions.substr(0, positions.find_last_not_of(' ') + 1), names);
    fmt::print("Everything below is computed for t = 5.\n");

    // 1. h_t ---------------------------------------------------------------------------------
    fmt::print("\n1. h_5, the mixer's input: rmsnorm(rmsnorm(wte[o] + wpe[5])), computed by the\n"
               "   model's own terms (token_embedding + position_embedding) >> rmsnorm >> rmsnorm:\n\n");
    fmt::print("   h_5[0..7]  = {}\n   h_5[8..15] = {}\n", show(h_t.first(8)), show(h_t.last(8)));

    // 2. z_t ---------------------------------------------------------------------------------
    double z_t[R];
    gflow::kernels::matvec_rows<R, d>(W_red, h_t.data(), z_t, 1);
    fmt::print("\n2. z_5 = W_red h_5: the reduction from d = {} to r = {} (W_red is {} x {}).\n\n", d, R, R,
               d);
    for (int i = 0; i < R; ++i)
        fmt::print("   z_5[{}] = sum over j of W_red[{}][j] h_5[j] = {:+.4f}\n", i, i, z_t[i]);
    agreement z_check;
    z_check.compare(std::span(z_t, R), act.data() + mixer::z + t * R);

    // 3. the offsets that exist ------------------------------------------------------------------
    fmt::print("\n3. The window's offsets at t = 5: an offset delta pairs t with t - delta, if that\n"
               "   position exists (t - delta >= 0).\n\n");
    int count = 0;
    for (int k = 0; k < K; ++k) {
        const int delta = mixer_term::window[k], s = t - delta;
        if (s >= 0) {
            fmt::print("   delta = {:>2}: t - delta = {:>3}  '{}'  used\n", delta, s, label(s));
            ++count;
        } else {
            fmt::print("   delta = {:>2}: t - delta = {:>3}  before the start: skipped\n", delta, s);
        }
    }
    fmt::print("\n   {} offsets exist, so g is built from {} pairs.\n", count, count);

    // 4. per offset: z of the earlier position, Plücker coordinates, norm, p_hat -----------------
    fmt::print("\n4. For each pair: the earlier z, the {} Plücker coordinates\n"
               "   p_ij = z_5[i] z_s[j] - z_5[j] z_s[i] (i < j; gflow::terms::plucker_coordinates<{}>),\n"
               "   their norm |p| = sqrt(sum p_ij^2 + 1e-8), and p_hat = p / |p|.\n",
               P, R);
    std::vector<std::vector<double>> p_hats;
    agreement earlier_z_check, phat_check;
    for (int k = 0; k < K; ++k) {
        const int delta = mixer_term::window[k], s = t - delta;
        if (s < 0) continue;
        double z_s[R], p[P];
        gflow::kernels::matvec_rows<R, d>(W_red, h.data() + s * d, z_s, 1);
        earlier_z_check.compare(std::span(z_s, R), act.data() + mixer::z + s * R);
        const double sum_sq = plucker_coordinates<R>(z_t, z_s, p);
        const double length = gflow::math::sqrt(sum_sq + 1e-8);
        std::vector<double> p_hat(P);
        for (int c = 0; c < P; ++c) p_hat[c] = p[c] / length;
        phat_check.compare(p_hat, act.data() + mixer::phat + (t * K + k) * P);
        p_hats.push_back(p_hat);

        fmt::print("\n   --- delta = {}: the '{}' at s = {} ---\n", delta, label(s), s);
        fmt::print("   z_{} = W_red h_{} = {}\n", s, s, show(std::span(z_s, R)));
        for (int c = 0; c < P; ++c) {
            const auto [i, j] = mixer::pair_index[c];
            fmt::print("   p_{}{} = ({:+.4f})({:+.4f}) - ({:+.4f})({:+.4f}) = {:+.5f}\n", i, j, z_t[i],
                       z_s[j], z_t[j], z_s[i], p[c]);
        }
        fmt::print("   |p| = sqrt({:.6f} + 1e-8) = {:.5f}\n", sum_sq, length);
        fmt::print("   p_hat = p / |p| = {}\n", show(p_hat));
    }

    // 5. the mean --------------------------------------------------------------------------------
    std::vector<double> p_bar(P, 0.0);
    for (const auto& p_hat : p_hats)
        for (int c = 0; c < P; ++c) p_bar[c] += p_hat[c] / double(p_hats.size());
    agreement pbar_check;
    pbar_check.compare(p_bar, act.data() + mixer::pbar + t * P);
    fmt::print("\n5. The mean over the {} pairs, p_bar = (p_hat[delta 1] + p_hat[delta 2] + p_hat[delta 4]) "
               "/ {}:\n\n",
               p_hats.size(), p_hats.size());
    for (int c = 0; c < P; ++c) {
        const auto [i, j] = mixer::pair_index[c];
        std::string terms;
        for (std::size_t m = 0; m < p_hats.size(); ++m)
            terms += fmt::format("{}{:+.4f}", m ? " " : "", p_hats[m][c]);
        fmt::print("   p_bar_{}{} = ({}) / {} = {:+.4f}\n", i, j, terms, p_hats.size(), p_bar[c]);
    }

    // 6. g ---------------------------------------------------------------------------------------
    double g[d];
    gflow::kernels::matvec_rows<d, P>(W_plu, p_bar.data(), g, 1);
    agreement g_check;
    g_check.compare(std::span(g, d), act.data() + mixer::g + t * d);
    fmt::print("\n6. g = W_plu p_bar: the {} coordinates mapped back to d = {} (W_plu is {} x {}).\n"
               "   (The mean of W_plu p_hat over the pairs is the same vector: W_plu is linear.)\n\n",
               P, d, d, P);
    fmt::print("   g[0..7]  = {}\n   g[8..15] = {}\n", show(std::span(g, 8)), show(std::span(g + 8, 8)));

    // 7. the gate and the output -------------------------------------------------------------------
    double from_h[d], from_g[d];
    gflow::kernels::matvec_rows<d, d>(W_gate_h, h_t.data(), from_h, 1);
    gflow::kernels::matvec_rows<d, d>(W_gate_g, g, from_g, 1);
    std::vector<double> gate(d), alpha(d), mixed(d);
    for (int i = 0; i < d; ++i) {
        gate[i] = from_h[i] + from_g[i];
        alpha[i] = gflow::math::sigmoid(gate[i]);
        mixed[i] = alpha[i] * h_t[i] + (1 - alpha[i]) * g[i];
    }
    agreement gate_check, out_check;
    std::vector<double> kept_gate(d);   // the mixer keeps the gate's two products, added in its mix loop
    for (int i = 0; i < d; ++i) kept_gate[i] = act[mixer::gate_h + t * d + i] + act[mixer::gate_g + t * d + i];
    gate_check.compare(gate, kept_gate.data());
    out_check.compare(mixed, out.data() + t * d);
    fmt::print("\n7. The gate: alpha = sigmoid(W_gate_h h_5 + W_gate_g g), and the output\n"
               "   out = alpha * h_5 + (1 - alpha) * g, one dimension at a time:\n\n");
    fmt::print("     i      h_5        g  W_gate_h h  W_gate_g g     gate    alpha      out\n");
    for (int i = 0; i < d; ++i)
        fmt::print("   {:>3} {:>+8.4f} {:>+8.4f} {:>+11.4f} {:>+11.4f} {:>+8.4f} {:>8.4f} {:>+8.4f}\n", i,
                   h_t[i], g[i], from_h[i], from_g[i], gate[i], alpha[i], mixed[i]);
    const auto [lowest, highest] = std::minmax_element(alpha.begin(), alpha.end());
    fmt::print("\n   alpha lies between {:.3f} and {:.3f}: untrained gate weights are small, so alpha\n"
               "   stays near 1/2 and the output is about half h, half g. (trace_alpha: a trained gate.)\n",
               *lowest, *highest);

    // 8. cross-checks ------------------------------------------------------------------------------
    fmt::print("\n8. Cross-check. The mixer itself (gflow::bind<grassmann<4>(offsets<1, 2, 4, 8, 12, 16>),\n"
               "   dims{{27, 16, 16}}, 16>) ran its forward over all 6 positions with the same weights;\n"
               "   its activation buffers, read at the documented offsets, hold:\n\n");
    z_check.report("z_5            [mixer::z]");
    earlier_z_check.report("z_4, z_3, z_1  [mixer::z]");
    phat_check.report("p_hat, 3 pairs [mixer::phat]");
    pbar_check.report("p_bar          [mixer::pbar]");
    g_check.report("g              [mixer::g]");
    gate_check.report("gate           [mixer::gate_h + mixer::gate_g]");
    out_check.report("out            [output]");

    // The rest of the model from the traced output: logits = back(x + out).
    // Positions 0..4 take the mixer's output; position 5 takes the traced one.
    std::vector<double> x1(x.size()), back_act(back::act_size), logits(std::size_t(n) * V);
    for (std::size_t i = 0; i < x.size(); ++i) x1[i] = x[i] + out[i];
    for (int i = 0; i < d; ++i) x1[t * d + i] = x[t * d + i] + mixed[i];
    back::forward(gflow::pass{n, nullptr, 0}, net.parameter("layer0.mlp_fc1").data(), back_act.data(),
                  x1.data(), logits.data());
    const auto expected = net.logits(tokens);
    agreement logits_check;
    logits_check.compare(std::span(logits).subspan(t * V, V), expected.data() + t * V);
    fmt::print("\n   And through the rest of the model: x + out, then residual(rmsnorm >> ffn<4>(relu))\n"
               "   and lm_head, gives the logits at t = 5; compared with network::logits(\"hello\"):\n\n");
    logits_check.report("logits at t = 5", "network::logits");

    const bool all = z_check.ok && earlier_z_check.ok && phat_check.ok && pbar_check.ok && g_check.ok
                     && gate_check.ok && out_check.ok && logits_check.ok;
    fmt::print("\nThe trace {} the mixer's forward.\n", all ? "agrees with" : "DISAGREES with");
    return all ? 0 : 1;
} catch (const gflow::input_error& e) {
    fmt::print(stderr, "trace_g: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    fmt::print(stderr, "trace_g: {}\n", e.what());
    return 1;
}
