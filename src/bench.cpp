// The shared, non-template part of the benchmark programs: flags, data paths, reporting.
#include <gflow/bench/bench.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

namespace gflow::bench {

namespace po = boost::program_options;

std::string with_commas(std::size_t n) {   // 3840 -> "3,840", as the reference prints counts
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::vector<std::string> options::mixers() const {
    if (mixer == "both") return {"grassmann", "attention"};
    return {mixer};
}

std::optional<options> parse_options(int argc, const char* const* argv, const program_info& info) {
    options o;
    std::string layers_list;
    for (int l : info.built_layers) layers_list += (layers_list.empty() ? "" : ", ") + std::to_string(l);
    po::options_description desc(fmt::format("{}: {}\n\nOptions", info.name, info.summary));
    long long steps = info.default_steps, layers = 1, stop_after = 0, threads = 0;
    unsigned long long seed = o.seed;
    desc.add_options()
        ("help,h", "show this help")
        ("mixer", po::value(&o.mixer)->default_value(o.mixer), "grassmann | attention | both")
        ("layers", po::value(&layers)->default_value(1), fmt::format("number of layers: {}", layers_list).c_str())
        ("steps", po::value(&steps)->default_value(info.default_steps), "training steps (at least 1)")
        ("seed", po::value(&seed)->default_value(o.seed), "seed of the weights, the shuffle and the samples")
        ("data", po::value(&o.data), "data file, one document a line (default: the program's file in the data/ that ships with gflow)")
        ("dtype", po::value(&o.dtype)->default_value(o.dtype), "f32 | f64")
        ("order", po::value(&o.order)->default_value(o.order), "shuffle (seeded) | file (step s uses document s mod N)")
        ("save", po::value(&o.save), "write the trained weights to this safetensors file (only the weights, as "
                                     "PyTorch's load_state_dict(strict=True) expects), and the training state (Adam's "
                                     "moments, the step) beside it: --save run/m.safetensors also writes run/m.train.safetensors")
        ("load", po::value(&o.load), "initial weights from this safetensors file")
        ("resume", po::value(&o.resume), "continue the run saved with --save to this file, bit for bit: reads its "
                                         "weights and its training state (run/m.train.safetensors for run/m.safetensors)")
        ("stop-after", po::value(&stop_after), "stop after this many steps of the --steps schedule (then --save)")
        ("threads", po::value(&threads)->default_value(0), "threads of a training step (0: all the machine's cores)")
        ("json", po::bool_switch(&o.json), "one JSON object per mixer on stdout, nothing else")
        ("grad-doc", po::value<std::string>(), "gradient mode: the loss and gradient of this one document at the --load weights")
        ("save-grads", po::value(&o.save_grads), "gradient mode: write every parameter's gradient here");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(fmt::format("{}: {} (see --help)", info.name, e.what()));
    }
    if (vm.count("help")) {
        std::ostringstream text;
        text << desc;
        fmt::print("{}", text.str());
        return std::nullopt;
    }
    if (o.mixer != "grassmann" && o.mixer != "attention" && o.mixer != "both")
        throw usage_error(fmt::format("{}: --mixer '{}' is not one of grassmann, attention, both", info.name, o.mixer));
    if (steps < 1 || steps > 1'000'000'000)
        throw usage_error(fmt::format("{}: --steps {} must be between 1 and 1000000000", info.name, steps));
    o.steps = int(steps);
    if (std::find(info.built_layers.begin(), info.built_layers.end(), layers) == info.built_layers.end())
        throw usage_error(fmt::format("{}: --layers {}: this program was built for {} layers", info.name, layers, layers_list));
    o.layers = int(layers);
    o.seed = seed;
    if (o.dtype != "f32" && o.dtype != "f64")
        throw usage_error(fmt::format("{}: --dtype '{}' is not f32 or f64", info.name, o.dtype));
    if (o.order != "shuffle" && o.order != "file")
        throw usage_error(fmt::format("{}: --order '{}' is not shuffle or file", info.name, o.order));
    if (vm.count("grad-doc")) {
        o.grad_doc = vm["grad-doc"].as<std::string>();
        if (o.load.empty()) throw usage_error(fmt::format("{}: --grad-doc needs --load (the weights to differentiate at)", info.name));
        if (o.save_grads.empty()) throw usage_error(fmt::format("{}: --grad-doc needs --save-grads PATH", info.name));
        if (o.mixer == "both") throw usage_error(fmt::format("{}: --grad-doc needs one --mixer (grassmann or attention)", info.name));
    } else if (!o.save_grads.empty()) {
        throw usage_error(fmt::format("{}: --save-grads is only for gradient mode (--grad-doc)", info.name));
    }
    if (!o.save.empty() && o.mixer == "both")
        throw usage_error(fmt::format("{}: --save needs one --mixer (the file holds one model)", info.name));
    if (!o.load.empty() && o.mixer == "both")
        throw usage_error(fmt::format("{}: --load needs one --mixer (the file holds one model)", info.name));
    if (!o.resume.empty() && o.mixer == "both")
        throw usage_error(fmt::format("{}: --resume needs one --mixer (the file holds one model)", info.name));
    if (!o.resume.empty() && !o.load.empty())
        throw usage_error(fmt::format("{}: --resume and --load exclude each other (--resume reads the saved weights)", info.name));
    if (vm.count("stop-after") && (stop_after < 1 || stop_after > steps))
        throw usage_error(fmt::format("{}: --stop-after {} must be between 1 and --steps ({})", info.name, stop_after, steps));
    o.stop_after = int(stop_after);
    if (threads < 0 || threads > 4096)
        throw usage_error(fmt::format("{}: --threads {} must be between 0 (all cores) and 4096", info.name, threads));
    o.threads = int(threads);
    return o;
}

std::string find_data_file(const std::string& given, const std::vector<std::string>& candidates,
                           const std::string& missing_help) {
    namespace fs = std::filesystem;
    if (!given.empty()) {
        std::error_code ec;
        if (!fs::exists(given, ec)) throw input_error(fmt::format("{}: no such file", given));
        return given;
    }
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::is_regular_file(c, ec)) return c;
    }
    throw input_error(missing_help);
}

// GFLOW_SOURCE_ROOT and GFLOW_DATA_DIR come from src/meson.build.
#ifndef GFLOW_SOURCE_ROOT
#define GFLOW_SOURCE_ROOT "."
#endif
#ifndef GFLOW_DATA_DIR
#define GFLOW_DATA_DIR "/usr/local/share/gflow"
#endif

std::string default_data_file(const std::string& file_name, const std::string& given,
                              const std::string& how_to_give) {
    namespace fs = std::filesystem;
    if (!given.empty()) return find_data_file(given, {}, {});
    std::vector<std::string> dirs;
    const char* env = std::getenv("GFLOW_DATA");
    if (env && *env) dirs.emplace_back(env);
    dirs.emplace_back(GFLOW_SOURCE_ROOT "/data");
    dirs.emplace_back(GFLOW_DATA_DIR);
    std::string tried;   // "A or B", "A, B or C"
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        const std::string path = (fs::path(dirs[i]) / file_name).string();
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) return path;
        tried += (i == 0 ? "" : i + 1 == dirs.size() ? " or " : ", ") + dirs[i];
    }
    throw input_error(fmt::format("no {}: not in {}; give {}", file_name, tried, how_to_give));
}

void print_result(const result& r, std::size_t samples_shown) {
    fmt::print("\n== {} ({} layer{}, {}, seed {}) ==\n", r.mixer, r.layers, r.layers == 1 ? "" : "s", r.dtype, r.seed);
    fmt::print("parameters     {:>10}\n", with_commas(r.params));
    fmt::print("steps          {:>10}\n", r.steps);
    fmt::print("train loss     {:>10.4f}   (mean of the last 100 steps)\n", r.train_loss);
    fmt::print("eval loss      {:>10.4f}\n", r.eval_loss);
    fmt::print("time per step  {:>10.2f} us (median of chunks of 100 steps)\n", r.ms_per_step * 1000);
    if (!r.instruction_set.empty()) fmt::print("compiled for   {}\n", r.instruction_set);
    if (r.speed.flops_per_step > 0) fmt::print("roofline       {}\n", to_string(r.speed));
    for (const auto& [key, value] : r.extra) fmt::print("{:<15}{:>10.4f}\n", key, value);
    fmt::print("samples:");
    for (std::size_t i = 0; i < std::min(samples_shown, r.samples.size()); ++i)
        fmt::print("{}{}", i % 5 == 0 ? "\n  " : "  ", r.samples[i].empty() ? "(empty)" : r.samples[i]);
    fmt::print("\n");
}

void print_comparison(std::span<const result> results, std::span<const reference_row> reference,
                      const std::string& extra_column) {
    const bool extra = !extra_column.empty();
    fmt::print("\n{:<28}{:>10}{:>12}{:>16}{}\n", "", "Params", "Eval loss", "Time per step",
               extra ? fmt::format("{:>16}", extra_column) : "");
    for (const auto& r : results) {
        std::string extra_value;
        if (extra) {
            const auto it = r.extra.find(extra_column);
            extra_value = fmt::format("{:>16}", it == r.extra.end() ? "-" : fmt::format("{:.0f} %", 100 * it->second));
        }
        fmt::print("{:<28}{:>10}{:>12.4f}{:>13.2f} us{}\n",
                   fmt::format("gflow {} ({}L, {})", r.mixer, r.layers, r.dtype), with_commas(r.params), r.eval_loss,
                   r.ms_per_step * 1000, extra_value);
    }
    for (const auto& ref : reference)
        fmt::print("{:<28}{:>10}{:>12}{:>16}{}\n", "reference " + ref.mixer, ref.params, ref.eval_loss,
                   ref.time_per_step, extra ? fmt::format("{:>16}", ref.extra) : "");
}

std::string to_json(const result& r) {
    boost::json::object o;
    o["mixer"] = r.mixer;
    o["layers"] = r.layers;
    o["dtype"] = r.dtype;
    o["instruction_set"] = r.instruction_set;
    o["seed"] = r.seed;
    o["params"] = r.params;
    o["steps"] = r.steps;
    o["train_loss"] = r.train_loss;
    o["eval_loss"] = r.eval_loss;
    o["ms_per_step"] = r.ms_per_step;
    o["tokens_per_step"] = r.tokens_per_step;
    if (r.ms_per_step > 0) o["tokens_per_s"] = r.tokens_per_step / (r.ms_per_step * 1e-3);
    if (r.speed.flops_per_step > 0) {   // the roofline line (bench/roofline.hpp)
        o["flops_per_step"] = r.speed.flops_per_step;
        o["gflops_per_s"] = r.speed.gflops();
        o["peak_gflops_per_s"] = r.speed.peak_gflops;
        o["peak_fraction"] = r.speed.fraction();
        o["threads"] = r.speed.threads;
    }
    boost::json::array samples;
    for (const auto& s : r.samples) samples.emplace_back(s);
    o["samples"] = std::move(samples);
    for (const auto& [key, value] : r.extra) o[key] = value;
    boost::json::array curve;
    for (double l : r.loss_curve) curve.emplace_back(l);
    o["loss_curve"] = std::move(curve);
    return boost::json::serialize(o);
}

progress_line::progress_line() : enabled_(::isatty(STDERR_FILENO) == 1) {}
progress_line::~progress_line() { finish(); }
void progress_line::update(const std::string& text) {
    if (!enabled_) return;
    fmt::print(stderr, "\r\033[K{}", text);
    std::fflush(stderr);
    shown_ = true;
}
void progress_line::finish() {
    if (enabled_ && shown_) fmt::print(stderr, "\r\033[K");
    shown_ = false;
}

long peak_memory_kib() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace gflow::bench
