// loss_curves: draws the loss curves of benchmark runs as an SVG picture, from the benchmarks' own
// output: the JSON lines that `names --json` and `parens --json` print, one run a line, each with
// "mixer", "layers", "steps", "loss_curve" (the mean training loss of each chunk of 100 steps)
// and "eval_loss".
//
//   names --mixer both --json > runs.jsonl
//   loss_curves --title "names" --out docs/loss_curves_names.svg runs.jsonl
//
// Each run is a line (its training loss, at the end of each chunk of 100 steps) and a marked
// point (its evaluation loss, after the last step), in the run's colour. scripts/docs.sh runs it.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/core.h>

namespace {

struct run {
    std::string label;
    std::vector<double> steps, loss;   // the training curve
    double eval_loss = NAN;
    int total_steps = 0;
    std::string dtype;
    long seed = 0;
};

std::vector<run> read_runs(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<run> runs;
    std::string line;
    while (std::getline(in, line)) {
        if (line.find('{') == std::string::npos) continue;
        const auto o = boost::json::parse(line).as_object();
        run r;
        const int layers = int(o.at("layers").to_number<double>());
        r.label = fmt::format("{}, {} layer{}", std::string(o.at("mixer").as_string()), layers, layers == 1 ? "" : "s");
        r.total_steps = int(o.at("steps").to_number<double>());
        r.eval_loss = o.at("eval_loss").to_number<double>();
        r.dtype = std::string(o.at("dtype").as_string());
        r.seed = long(o.at("seed").to_number<double>());
        const auto& curve = o.at("loss_curve").as_array();
        const int chunk = 100;   // gflow::train reports the mean of each chunk of 100 steps
        for (std::size_t i = 0; i < curve.size(); ++i) {
            r.steps.push_back(std::min<double>(r.total_steps, double(chunk) * double(i + 1)));
            r.loss.push_back(curve[i].to_number<double>());
        }
        runs.push_back(std::move(r));
    }
    if (runs.empty()) throw std::runtime_error(path + ": no runs (expected JSON lines from --json)");
    return runs;
}

// A step of 1, 2 or 5 times a power of ten, giving about `target` intervals over `range`.
double nice_step(double range, int target) {
    const double raw = range / target;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return 10 * p;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

std::string svg(const std::vector<run>& runs, const std::string& title, const std::string& source) {
    const char* colours[] = {"#1f6fb4", "#d1495b", "#2a9d47", "#e08a00", "#7b4fa8", "#6b4f3a"};
    const double W = 980, H = 560;
    const double left = 84, right = 690, top = 78, bottom = 480;   // the plot area

    double y_min = INFINITY, y_max = -INFINITY, x_max = 0;
    for (const auto& r : runs) {
        for (double l : r.loss) y_min = std::min(y_min, l), y_max = std::max(y_max, l);
        if (std::isfinite(r.eval_loss)) y_min = std::min(y_min, r.eval_loss), y_max = std::max(y_max, r.eval_loss);
        x_max = std::max<double>(x_max, r.total_steps);
    }
    const double y_step = nice_step(y_max - y_min, 6);
    y_min = std::floor(y_min / y_step) * y_step;
    y_max = std::ceil(y_max / y_step) * y_step;
    if (y_max - y_min < y_step) y_max = y_min + y_step;
    const double x_step = nice_step(x_max, 6);
    x_max = std::ceil(x_max / x_step) * x_step;
    const double x_span = x_max * 1.03;   // room for the evaluation points after the last step
    const auto X = [&](double s) { return left + (right - left) * s / x_span; };
    const auto Y = [&](double l) { return bottom - (bottom - top) * (l - y_min) / (y_max - y_min); };
    const int decimals = y_step >= 1 ? 0 : y_step >= 0.1 ? 1 : 2;

    std::string s;
    s += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                     "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n", W, H);
    s += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", W, H);
    s += fmt::format("<text x=\"{}\" y=\"34\" font-size=\"20\" font-weight=\"bold\">{}</text>\n", left, escape(title));
    s += fmt::format("<text x=\"{}\" y=\"58\" font-size=\"13\" fill=\"#555\">{}</text>\n", left, escape(source));

    // grid and ticks
    for (double v = y_min; v <= y_max + y_step / 2; v += y_step) {
        s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e3e3\"/>\n", left,
                         Y(v), right, Y(v));
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"end\">{:.{}f}</text>\n",
                         left - 8, Y(v) + 4.5, v, decimals);
    }
    for (double v = 0; v <= x_max + x_step / 2; v += x_step) {
        s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e3e3\"/>\n", X(v), top,
                         X(v), bottom);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\">{:.0f}</text>\n", X(v),
                         bottom + 20, v);
    }
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top,
                     right - left, bottom - top);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"15\" text-anchor=\"middle\">training step</text>\n",
                     (left + right) / 2, bottom + 46);
    s += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" font-size=\"15\" text-anchor=\"middle\">"
                     "loss (cross-entropy, nats per token)</text>\n",
                     left - 56, (top + bottom) / 2);

    // the curves and the evaluation points
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        const char* c = colours[k % std::size(colours)];
        std::string points;
        for (std::size_t i = 0; i < r.loss.size(); ++i)
            points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", X(r.steps[i]), Y(r.loss[i]));
        s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.2\" "
                         "stroke-linejoin=\"round\"/>\n", points, c);
        if (std::isfinite(r.eval_loss)) {
            const double x = X(r.total_steps), y = Y(r.eval_loss), d = 6;
            s += fmt::format("<path d=\"M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z\" fill=\"{}\" "
                             "stroke=\"#222\" stroke-width=\"1\"/>\n",
                             x, y - d, x + d, y, x, y + d, x - d, y, c);
        }
    }

    // the legend, right of the plot
    const double lx = right + 24;
    double ly = top + 8;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" font-weight=\"bold\">runs</text>\n", lx, ly);
    ly += 24;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        const char* c = colours[k % std::size(colours)];
        s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"3\"/>\n",
                         lx, ly - 4, lx + 26, ly - 4, c);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\">{}</text>\n", lx + 34, ly, escape(r.label));
        ly += 20;
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12.5\" fill=\"#444\">training, mean of each 100 steps</text>\n",
                         lx + 34, ly);
        ly += 22;
        if (std::isfinite(r.eval_loss)) {
            const double x = lx + 13, y = ly - 4, d = 6;
            s += fmt::format("<path d=\"M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z\" fill=\"{}\" "
                             "stroke=\"#222\" stroke-width=\"1\"/>\n",
                             x, y - d, x + d, y, x, y + d, x - d, y, c);
            s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12.5\" fill=\"#444\">eval loss {:.4f} after {} steps</text>\n",
                             lx + 34, ly, r.eval_loss, r.total_steps);
            ly += 30;
        }
    }
    s += "</svg>\n";
    return s;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string title = "loss", out, input, command = "the benchmark's --json output";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--title" && i + 1 < argc) title = argv[++i];
        else if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--command" && i + 1 < argc) command = argv[++i];
        else if (!a.starts_with("--") && input.empty()) input = a;
        else {
            fmt::print(stderr, "usage: loss_curves [--title T] [--command TEXT] --out FILE.svg RUNS.jsonl\n");
            return 2;
        }
    }
    if (out.empty() || input.empty()) {
        fmt::print(stderr, "usage: loss_curves [--title T] [--command TEXT] --out FILE.svg RUNS.jsonl\n");
        return 2;
    }
    const auto runs = read_runs(input);
    const std::string source = fmt::format("the output of {}: {} steps, {}, seed {}", command, runs.front().total_steps,
                                           runs.front().dtype, runs.front().seed);
    std::ofstream(out) << svg(runs, title, source);
    fmt::print("wrote {} ({} runs)\n", out, runs.size());
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "loss_curves: {}\n", e.what());
    return 1;
}
