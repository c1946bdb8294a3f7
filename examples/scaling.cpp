// scaling: the claim the paper rests on, O(L) against O(L^2), measured. For sequence lengths
// L = 16 .. 4096 (doubling), both mixers, widths 16 and 64, a 1-layer model of the parenthesis
// benchmark's shape with block size L: the median time of one training step (forward, backward,
// Adam) and of one forward pass (with the loss) on a document of L predictions, f32, one core.
// Fits the growth exponent (least squares on log-log over the upper half of the lengths), finds
// where the two mixers' lines cross, and measures generation: time per generated token and the
// decoding state in use as the generated length grows. Writes a Markdown report and an SVG plot.
//   scaling [--out DIR] [--max-length L] [--budget SECONDS]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>

#include "scaling_models.hpp"

namespace {

struct series {
    std::string mixer;
    int width;
    std::vector<double> x, y;
};

// Least-squares slope of log y against log x over the upper half of the points.
double growth_exponent(const std::vector<double>& x, const std::vector<double>& y) {
    const std::size_t n = x.size(), first = n / 2;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double m = double(n - first);
    for (std::size_t i = first; i < n; ++i) {
        const double lx = std::log(x[i]), ly = std::log(y[i]);
        sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
    }
    const double den = m * sxx - sx * sx;
    return den > 0 ? (m * sxy - sx * sy) / den : NAN;
}

// Where attention's time (a) crosses Grassmann's (g), interpolated on log-log; nullopt if it does
// not cross within the lengths. `sign` is +1 if attention is slower at the longest length.
struct crossing {
    std::optional<double> length;        // measured: between two lengths
    std::optional<double> extrapolated;  // no crossing measured: the first two points' trend, below
    bool attention_slower_at_end;
    bool attention_slower_at_start;
};
crossing cross(const std::vector<double>& x, const std::vector<double>& a, const std::vector<double>& g) {
    crossing c{std::nullopt, std::nullopt, a.back() > g.back(), a.front() > g.front()};
    const auto at_ratio_one = [&](std::size_t i) {   // log-log line through points i, i+1, where a = g
        const double r0 = std::log(a[i] / g[i]), r1 = std::log(a[i + 1] / g[i + 1]);
        const double l0 = std::log(x[i]), l1 = std::log(x[i + 1]);
        return std::exp(l0 + (0 - r0) * (l1 - l0) / (r1 - r0));
    };
    for (std::size_t i = x.size() - 1; i > 0; --i) {   // the last crossing: beyond it the order holds
        const double r0 = std::log(a[i - 1] / g[i - 1]), r1 = std::log(a[i] / g[i]);
        if ((r0 < 0) != (r1 < 0)) {
            c.length = at_ratio_one(i - 1);
            break;
        }
    }
    if (!c.length && x.size() >= 2 && c.attention_slower_at_start && a[1] / g[1] > a[0] / g[0])
        c.extrapolated = at_ratio_one(0);
    return c;
}

std::string crossing_text(const crossing& c, int first_length, const std::string& what) {
    if (c.length)
        return fmt::format("{}: attention becomes slower than Grassmann at L ≈ {:.0f}{}", what, *c.length,
                           c.attention_slower_at_end ? "" : " (and faster again beyond)");
    if (c.attention_slower_at_end)
        return fmt::format("{}: attention is slower at every length measured (from L = {}){}", what, first_length,
                           c.extrapolated ? fmt::format("; extrapolating the ratio's trend from L = {} and {} (roughly), they would meet at L ≈ {:.0f}",
                                                        first_length, 2 * first_length, *c.extrapolated)
                                          : std::string());
    return fmt::format("{}: attention is faster at every length measured", what);
}

std::string human_bytes(double b) {
    if (b < 1024) return fmt::format("{:.0f} B", b);
    if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024);
    return fmt::format("{:.1f} MiB", b / (1024 * 1024));
}

// A decade's tick label: 100 µs, 1 ms, 10 s.
std::string tick_text(double us) {
    if (us < 1) return fmt::format("{:g} µs", us);
    if (us < 1000) return fmt::format("{:.0f} µs", us);
    if (us < 1e6) return fmt::format("{:.0f} ms", us / 1000);
    return fmt::format("{:.0f} s", us / 1e6);
}

std::string time_text(double us) {
    if (us < 1000) return fmt::format("{:.1f} µs", us);
    if (us < 1e6) return fmt::format("{:.2f} ms", us / 1000);
    return fmt::format("{:.2f} s", us / 1e6);
}

// ---- the plot: three log-log panels (training step, forward pass, generated token) ----------
struct panel {
    std::string title, y_label;
    std::vector<series> lines;
};

std::string svg_plot(const std::vector<panel>& panels, const std::string& caption) {
    const double pw = 360, ph = 300, left = 75, top = 100, gap = 95, bottom = 50;
    const double width = left + panels.size() * pw + (panels.size() - 1) * gap + 30;
    const double height = top + ph + bottom;
    std::ostringstream s;
    s << fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" viewBox="0 0 {:.0f} {:.0f}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">)",
                     width, height, width, height)
      << "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    s << fmt::format(R"(<text x="{:.0f}" y="26" font-size="17" font-weight="bold">{}</text>)", left, caption) << "\n";
    const auto colour = [](const std::string& m) { return m == "grassmann" ? "#1f6fb4" : "#d4561b"; };
    // legend, once, under the caption
    double lx = left;
    for (const auto& l : panels.front().lines) {
        const bool wide = l.width == 64;
        s << fmt::format(R"(<line x1="{:.0f}" y1="54" x2="{:.0f}" y2="54" stroke="{}" stroke-width="2.5"{}/>)", lx, lx + 30,
                         colour(l.mixer), wide ? R"( stroke-dasharray="7 4")" : "")
          << "\n";
        s << (wide ? fmt::format(R"(<rect x="{:.0f}" y="50" width="8" height="8" fill="{}"/>)", lx + 11, colour(l.mixer))
                   : fmt::format(R"(<circle cx="{:.0f}" cy="54" r="4" fill="{}"/>)", lx + 15, colour(l.mixer)))
          << "\n";
        const std::string label = fmt::format("{}, width {}", l.mixer == "grassmann" ? "Grassmann" : "attention", l.width);
        s << fmt::format(R"(<text x="{:.0f}" y="59" font-size="13">{}</text>)", lx + 38, label) << "\n";
        lx += 38 + 8.0 * double(label.size()) + 30;
    }
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const auto& pan = panels[p];
        const double x0 = left + p * (pw + gap), y0 = top;
        double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = 0;
        for (const auto& l : pan.lines)
            for (std::size_t i = 0; i < l.x.size(); ++i) {
                xmin = std::min(xmin, l.x[i]); xmax = std::max(xmax, l.x[i]);
                ymin = std::min(ymin, l.y[i]); ymax = std::max(ymax, l.y[i]);
            }
        const double lx0 = std::log2(xmin), lx1 = std::log2(xmax);
        const double ly0 = std::floor(std::log10(ymin)), ly1 = std::ceil(std::log10(ymax));
        const auto X = [&](double v) { return x0 + (std::log2(v) - lx0) / std::max(lx1 - lx0, 1e-9) * pw; };
        const auto Y = [&](double v) { return y0 + ph - (std::log10(v) - ly0) / std::max(ly1 - ly0, 1e-9) * ph; };
        s << fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.0f}" height="{:.0f}" fill="none" stroke="#444"/>)", x0, y0, pw, ph) << "\n";
        // grid and ticks: powers of two on x, decades on y (with 2 and 5 between, unlabelled)
        for (double v = xmin; v <= xmax * 1.0001; v *= 2) {
            const double x = X(v);
            s << fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#e3e3e3"/>)", x, y0, x, y0 + ph) << "\n";
            s << fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="middle">{:.0f}</text>)", x, y0 + ph + 17, v) << "\n";
        }
        for (double d = ly0; d <= ly1 + 1e-9; d += 1) {
            for (double m : {1.0, 2.0, 5.0}) {
                const double v = m * std::pow(10.0, d);
                if (std::log10(v) > ly1 + 1e-9) break;
                const double y = Y(v);
                s << fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}"/>)", x0, y, x0 + pw, y,
                                 m == 1 ? "#d0d0d0" : "#f0f0f0")
                  << "\n";
                if (m == 1)
                    s << fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="end">{}</text>)", x0 - 6, y + 4,
                                     tick_text(v))
                      << "\n";
            }
        }
        for (const auto& l : pan.lines) {
            std::string points;
            for (std::size_t i = 0; i < l.x.size(); ++i) points += fmt::format("{:.1f},{:.1f} ", X(l.x[i]), Y(l.y[i]));
            s << fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2.2"{}/>)", points, colour(l.mixer),
                             l.width == 64 ? R"( stroke-dasharray="7 4")" : "")
              << "\n";
            for (std::size_t i = 0; i < l.x.size(); ++i)
                s << (l.width == 64 ? fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="7" height="7" fill="{}"/>)", X(l.x[i]) - 3.5,
                                                  Y(l.y[i]) - 3.5, colour(l.mixer))
                                    : fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3.5" fill="{}"/>)", X(l.x[i]), Y(l.y[i]),
                                                  colour(l.mixer)))
                  << "\n";
        }
        s << fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="14" font-weight="bold" text-anchor="middle">{}</text>)",
                         x0 + pw / 2, y0 - 10, pan.title)
          << "\n";
        s << fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="13" text-anchor="middle">{}</text>)", x0 + pw / 2,
                         y0 + ph + 38, p + 1 == panels.size() ? "generated length L (tokens)" : "sequence length L (tokens)")
          << "\n";
        s << fmt::format(R"svg(<text transform="translate({:.1f},{:.1f}) rotate(-90)" font-size="13" text-anchor="middle">{}</text>)svg",
                         x0 - 60, y0 + ph / 2, pan.y_label)
          << "\n";
    }
    s << "</svg>\n";
    return s.str();
}

struct cli {
    std::string out = "docs";
    int max_length = 4096;
    double budget = 0.25;
};

cli parse(int argc, char** argv) {
    cli c;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw gflow::bench::usage_error(fmt::format("scaling: {} needs a value", a));
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            fmt::print("scaling: time of a training step, a forward pass and generation against the sequence length\n"
                       "  --out DIR         write scaling.md and scaling.svg here (default docs)\n"
                       "  --max-length L    the longest length, a power of two from 16 to 4096 (default 4096)\n"
                       "  --budget SECONDS  time for the repetitions of one measurement (default 0.25)\n");
            std::exit(0);
        } else if (a == "--out") {
            c.out = value();
        } else if (a == "--max-length") {
            const std::string v = value();
            c.max_length = std::atoi(v.c_str());
            if (std::find(std::begin(scaling::lengths), std::end(scaling::lengths), c.max_length) == std::end(scaling::lengths) ||
                c.max_length < 64)
                throw gflow::bench::usage_error(fmt::format("scaling: --max-length {} is not one of 64, 128, ..., 4096", v));
        } else if (a == "--budget") {
            const std::string v = value();
            c.budget = std::atof(v.c_str());
            if (!(c.budget > 0 && c.budget <= 60))
                throw gflow::bench::usage_error(fmt::format("scaling: --budget {} must be between 0 and 60 seconds", v));
        } else {
            throw gflow::bench::usage_error(fmt::format("scaling: unknown option '{}' (see --help)", a));
        }
    }
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    using scaling::timing;
    try {
        const cli c = parse(argc, argv);
        std::error_code ec;
        std::filesystem::create_directories(c.out, ec);
        if (!std::filesystem::is_directory(c.out))
            throw gflow::input_error(fmt::format("{}: cannot create the output directory", c.out));

        gflow::bench::progress_line progress;
        scaling::settings s{c.max_length, c.budget, [&](const std::string& t) { progress.update("scaling: " + t); }};
        const auto t_start = std::chrono::steady_clock::now();
        std::vector<scaling::results> all{scaling::grassmann_16(s), scaling::attention_16(s), scaling::grassmann_64(s),
                                          scaling::attention_64(s)};
        progress.finish();
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

        // series per (mixer, width)
        auto make = [&](auto value) {
            std::vector<series> out;
            for (const auto& r : all) {
                series sr{r.timings.front().mixer, r.timings.front().width, {}, {}};
                for (const auto& t : r.timings) {
                    sr.x.push_back(t.length);
                    sr.y.push_back(value(t));
                }
                out.push_back(sr);
            }
            return out;
        };
        const auto train = make([](const timing& t) { return t.train_us; });
        const auto forward = make([](const timing& t) { return t.forward_us; });
        const std::vector<series> gen = [&] {
            std::vector<series> out;
            for (const auto& r : all) {
                series sr{r.generated.mixer, r.generated.width, {}, {}};
                for (std::size_t i = 0; i < r.generated.lengths.size(); ++i) {
                    sr.x.push_back(r.generated.lengths[i]);
                    sr.y.push_back(r.generated.us_per_token[i]);
                }
                out.push_back(sr);
            }
            return out;
        }();
        const auto& xs = train.front().x;

        // ---- report ------------------------------------------------------------------------
        std::vector<std::string> md;
        md.push_back("# Scaling in sequence length: Grassmann against attention");
        md.push_back("");
        md.push_back(fmt::format(
            "Generated by `scaling` (`examples/scaling.cpp`; rerun `build/examples/scaling --out docs`, {:.0f} s on this "
            "machine). A 1-layer model of the parenthesis benchmark's shape (embeddings, norm, mixer and FFN on pre-norm "
            "residuals, head; vocabulary 3; Grassmann r = 4, window 1,2,4,8,16; attention 4 heads), compiled once per "
            "length L with block size L, f32, one core. **Training step**: forward, backward and Adam on one document of "
            "L predictions. **Forward**: the forward pass with the loss. Each figure is the median of repeated runs of "
            "the thread's CPU time (short steps timed in batches of at least 2 ms); CPU time rather than wall-clock "
            "time because the 2-core machine was shared with other work, whose turns wall-clock time would count.",
            elapsed));
        md.push_back("");
        md.push_back("![time against sequence length, log-log](scaling.svg)");
        md.push_back("");
        md.push_back("## Growth exponents");
        md.push_back("");
        md.push_back(fmt::format("Least-squares slope of log(time) against log(L) over the upper half of the lengths "
                                 "(L = {} .. {}). O(L) is 1, O(L²) is 2.",
                                 int(xs[xs.size() / 2]), int(xs.back())));
        md.push_back("");
        md.push_back("| mixer | width | training step | forward |");
        md.push_back("|---|---:|---:|---:|");
        std::map<std::pair<std::string, int>, std::pair<double, double>> exponents;
        for (std::size_t i = 0; i < train.size(); ++i) {
            const double et = growth_exponent(train[i].x, train[i].y), ef = growth_exponent(forward[i].x, forward[i].y);
            exponents[{train[i].mixer, train[i].width}] = {et, ef};
            md.push_back(fmt::format("| {} | {} | {:.2f} | {:.2f} |", train[i].mixer, train[i].width, et, ef));
        }
        md.push_back("");
        md.push_back("## Where the lines cross");
        md.push_back("");
        std::vector<std::string> crossings;
        for (int w : scaling::widths) {
            const auto find = [&](const std::vector<series>& v, const std::string& m) -> const series& {
                return *std::find_if(v.begin(), v.end(), [&](const series& x) { return x.mixer == m && x.width == w; });
            };
            for (const auto& [what, v] : {std::pair{"training step", &train}, std::pair{"forward", &forward},
                                          std::pair{"generated token", &gen}}) {
                const auto& a = find(*v, "attention");
                const auto& g = find(*v, "grassmann");
                const auto cr = cross(a.x, a.y, g.y);
                crossings.push_back(crossing_text(cr, int(a.x.front()), fmt::format("width {}, {}", w, what)));
                md.push_back("- " + crossings.back() + fmt::format(" (attention/Grassmann time: {:.2f} at L = {}, {:.2f} at L = {}).",
                                                                   a.y.front() / g.y.front(), int(a.x.front()),
                                                                   a.y.back() / g.y.back(), int(a.x.back())));
            }
        }
        {   // across widths: where narrow attention overtakes a four times wider Grassmann layer
            const auto pick = [](const std::vector<series>& v, const std::string& m, int w) -> const series& {
                return *std::find_if(v.begin(), v.end(), [&](const series& x) { return x.mixer == m && x.width == w; });
            };
            std::string line = "- Across widths: attention at width 16 becomes slower than Grassmann at width 64 (four times wider) at ";
            std::vector<std::string> parts;
            for (const auto& [what, v] : {std::pair{"training step", &train}, std::pair{"forward", &forward},
                                          std::pair{"generated token", &gen}}) {
                const auto cr = cross(pick(*v, "attention", 16).x, pick(*v, "attention", 16).y, pick(*v, "grassmann", 64).y);
                parts.push_back(cr.length ? fmt::format("L ≈ {:.0f} ({})", *cr.length, what)
                                          : fmt::format("no measured length ({})", what));
            }
            for (std::size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
            md.push_back(line + ".");
            crossings.push_back(line.substr(2));
        }
        md.push_back("");
        md.push_back("Per position, the Grassmann layer's fixed work (W_red, W_plu and the two d×d gate maps: 2d² + 10d "
                     "multiply-adds, plus the Plücker coordinates of 5 offsets) is smaller than attention's four d×d maps "
                     "(4d²), so attention's time can only fall below Grassmann's at the shortest lengths, where its "
                     "quadratic part is small and fixed costs (the FFN, the embeddings, Adam) dominate both. Attention's "
                     "own work grows with the position (every "
                     "query reads every earlier key and value), hence the exponent near 2 once it dominates the FFN and the "
                     "maps; the Grassmann layer's work per position is constant, hence 1.");
        md.push_back("");
        md.push_back("## Times");
        md.push_back("");
        md.push_back("| L | Grassmann 16 step | attention 16 step | Grassmann 64 step | attention 64 step | Grassmann 16 fwd | "
                     "attention 16 fwd | Grassmann 64 fwd | attention 64 fwd |");
        md.push_back("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (std::size_t i = 0; i < xs.size(); ++i) {
            std::string row = fmt::format("| {} ", int(xs[i]));
            for (const auto* v : {&train, &forward})
                for (int w : scaling::widths)
                    for (const char* m : {"grassmann", "attention"})
                        for (const auto& sr : *v)
                            if (sr.mixer == m && sr.width == w) row += "| " + time_text(sr.y[i]) + " ";
            md.push_back(row + "|");
        }
        md.push_back("");
        md.push_back("Activation memory of one training sequence (the network's arena, f32): " +
                     [&] {
                         std::string t;
                         for (const auto& r : all)
                             t += fmt::format("{} width {}: {} at L = {}, {} at L = {}; ", r.timings.front().mixer,
                                              r.timings.front().width, human_bytes(double(r.timings.front().activation_bytes)),
                                              r.timings.front().length, human_bytes(double(r.timings.back().activation_bytes)),
                                              r.timings.back().length);
                         return t.substr(0, t.size() - 2) + ".";
                     }() +
                     " Attention keeps its [heads][L][L] softmax weights for the backward pass.");
        md.push_back("");
        md.push_back("## Generation");
        md.push_back("");
        md.push_back("One token at a time by the decoding path, as sampling runs it, with the model of the longest block. "
                     "Time: the median over the tokens at positions (L/2, L] of 3 generations. State: the bytes of "
                     "decoding state written after L tokens (the state starts filled with a marker). Attention's "
                     "key/value cache grows by 2·d floats per token; the Grassmann layer keeps a ring of its last "
                     "max(window) = 16 reduced vectors of r = 4 floats, 256 bytes, whatever the length.");
        md.push_back("");
        md.push_back("| L | Grassmann 16 | attention 16 | Grassmann 64 | attention 64 | Grassmann state | attention 16 state | "
                     "attention 64 state |");
        md.push_back("|---:|---:|---:|---:|---:|---:|---:|---:|");
        const auto gen_of = [&](const std::string& m, int w) -> const scaling::generation& {
            return std::find_if(all.begin(), all.end(), [&](const scaling::results& r) {
                       return r.generated.mixer == m && r.generated.width == w;
                   })->generated;
        };
        const auto& g16 = gen_of("grassmann", 16);
        for (std::size_t i = 0; i < g16.lengths.size(); ++i) {
            md.push_back(fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |", g16.lengths[i], time_text(g16.us_per_token[i]),
                                     time_text(gen_of("attention", 16).us_per_token[i]),
                                     time_text(gen_of("grassmann", 64).us_per_token[i]),
                                     time_text(gen_of("attention", 64).us_per_token[i]),
                                     human_bytes(double(g16.state_bytes_used[i])),
                                     human_bytes(double(gen_of("attention", 16).state_bytes_used[i])),
                                     human_bytes(double(gen_of("attention", 64).state_bytes_used[i]))));
        }
        md.push_back("");
        md.push_back(fmt::format("Grassmann's state is the same at width 64 ({}): it holds reduced vectors of r = 4, not of d. "
                                 "Allocated for the block of {}: Grassmann {} (either width), attention {} (width 16) and {} "
                                 "(width 64).",
                                 human_bytes(double(gen_of("grassmann", 64).state_bytes_used.back())), g16.block,
                                 human_bytes(double(g16.state_bytes_allocated)),
                                 human_bytes(double(gen_of("attention", 16).state_bytes_allocated)),
                                 human_bytes(double(gen_of("attention", 64).state_bytes_allocated))));
        md.push_back("");
        const std::string md_path = c.out + "/scaling.md", svg_path = c.out + "/scaling.svg";
        {
            std::ofstream f(md_path);
            for (const auto& l : md) f << l << "\n";
            if (!f) throw gflow::input_error(fmt::format("{}: cannot write", md_path));
        }
        {
            std::vector<panel> panels{{"one training step", "time per step", train},
                                      {"one forward pass", "time per pass", forward},
                                      {"generating one token", "time per token", gen}};
            std::ofstream f(svg_path);
            f << svg_plot(panels, "Time against sequence length (log-log; 1 layer, f32, one core)");
            if (!f) throw gflow::input_error(fmt::format("{}: cannot write", svg_path));
        }

        // the same, on the terminal
        fmt::print("{:<10}{:>6}  {:>12}{:>12}\n", "mixer", "width", "exp. step", "exp. fwd");
        for (const auto& [k, e] : exponents) fmt::print("{:<10}{:>6}  {:>12.2f}{:>12.2f}\n", k.first, k.second, e.first, e.second);
        for (const auto& t : crossings) fmt::print("{}\n", t);
        fmt::print("wrote {} and {} ({:.0f} s)\n", md_path, svg_path, elapsed);
        return 0;
    } catch (const gflow::bench::usage_error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const gflow::input_error& e) {
        fmt::print(stderr, "scaling: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "scaling: {}\n", e.what());
        return 1;
    }
}
