// shakespeare: benchmark 3 (docs/benchmarks.md#shakespeare), Tiny Shakespeare at the paper's width.
// A character-level language model on tinyshakespeare.txt (the first 90 % trains, the last 10 %
// validates), trained on batches of random windows of 257 characters; prints the training
// throughput in tokens per second, the training and validation loss every 50 steps (--eval-every), the peak
// memory, and samples.
//   shakespeare [--mixer grassmann|attention|both] [--width 64|128|256] [--layers 6|12]
//               [--steps N | --tokens N] [--batch 1..8] [--lr X] [--threads N] [--dtype f32|f64]
//               [--seed N] [--data PATH] [--save PATH] [--resume PATH] [--stop-after N] [--eval-every N] [--json]
// Started by mpirun, it trains data-parallel over the ranks (docs/distributed.md): --batch is the
// global batch, each rank takes a share of it, and rank 0 alone prints and writes.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/core/blas.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/io/error.hpp>

#include "shakespeare_model.hpp"
#include "shakespeare_runs.hpp"

namespace {

using gflow::bench::usage_error;
const std::string program = "shakespeare";

std::string list(std::span<const int> values) {
    std::string s;
    for (int v : values) s += (s.empty() ? "" : ", ") + std::to_string(v);
    return s;
}

// The flags; --help prints its text (when `print_help`: rank 0 alone) and gives nothing.
std::optional<shakespeare::options> parse(int argc, const char* const* argv, bool print_help) {
    namespace po = boost::program_options;
    using shakespeare::block_size, shakespeare::max_batch;
    shakespeare::options o;
    long long steps = 0, layers = o.layers, width = o.width, batch = o.batch, stop_after = 0, threads = 0,
              eval_every = o.eval_every;
    double tokens = 0;
    unsigned long long seed = o.seed;
    po::options_description desc(fmt::format(
        "{}: benchmark 3 of docs/benchmarks.md: Tiny Shakespeare at the paper's width, Grassmann against attention\n"
        "(a character-level model, block {}; a step trains on --batch random windows of {} characters of the first 90 %\n"
        "of the text; the validation loss is over {} fixed windows of the last 10 %, every --eval-every steps and at the end)\n\nOptions",
        program, block_size, block_size + 1, shakespeare::eval_windows));
    desc.add_options()
        ("help,h", "show this help")
        ("mixer", po::value(&o.mixer)->default_value(o.mixer), "grassmann | attention | both")
        ("width", po::value(&width)->default_value(o.width),
         "model width: 64 (Grassmann r = 16, attention 4 heads), 128 (r = 32, 4 heads), 256 (r = 32, 8 heads)")
        ("layers", po::value(&layers)->default_value(o.layers),
         "6, or 12: the paper's schedule, one Grassmann offset per layer (1,1,2,2,4,4,8,8,12,12,16,16; Grassmann, width 256)")
        ("steps", po::value(&steps), "training steps (default 200)")
        ("tokens", po::value(&tokens), "training tokens instead of --steps: steps = tokens / (batch x 256), at least 1")
        ("batch", po::value(&batch)->default_value(o.batch),
         fmt::format("windows a step, 1 to {} (the models are compiled for at most {}); under mpirun, over all the ranks",
                     max_batch, max_batch).c_str())
        ("lr", po::value(&o.lr)->default_value(o.lr, "1e-3"), "Adam's learning rate (beta 0.85, 0.99), decaying linearly to 0 over --steps")
        ("threads", po::value(&threads)->default_value(0), "threads of a training step (0: all the machine's cores)")
        ("schedule", po::value(&o.schedule),
         "operations | documents: spread each operation of a step over the threads, or each document's whole "
         "step (default: documents; bench/README.md)")
        ("dtype", po::value(&o.dtype)->default_value(o.dtype), "f32 | f64")
        ("seed", po::value(&seed)->default_value(o.seed), "seed of the weights, the training windows and the samples")
        ("data", po::value(&o.data), "the text (default: tinyshakespeare.txt in the data/ that ships with gflow)")
        ("save", po::value(&o.save), "write the trained weights to this safetensors file, and the training state (Adam's "
                                     "moments, the step) beside it: --save run/m.safetensors also writes run/m.train.safetensors")
        ("resume", po::value(&o.resume), "continue the run saved with --save to this file, bit for bit (same flags)")
        ("stop-after", po::value(&stop_after), "stop after this many steps of the --steps schedule (then --save)")
        ("eval-every", po::value(&eval_every)->default_value(o.eval_every),
         "steps between the reports of the training and validation loss (and one at the end)")
        ("json", po::bool_switch(&o.json), "JSON objects on stdout, one a line: each report, then each mixer's result");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(fmt::format("{}: {} (see --help)", program, e.what()));
    }
    if (vm.count("help")) {
        std::ostringstream text;
        text << desc;
        if (print_help) fmt::print("{}", text.str());
        return std::nullopt;
    }
    if (o.mixer != "grassmann" && o.mixer != "attention" && o.mixer != "both")
        throw usage_error(fmt::format("{}: --mixer '{}' is not one of grassmann, attention, both", program, o.mixer));
    if (std::ranges::find(shakespeare::built_widths, width) == std::end(shakespeare::built_widths))
        throw usage_error(fmt::format("{}: --width {}: this program was built for widths {}", program, width,
                                      list(shakespeare::built_widths)));
    o.width = int(width);
    if (std::ranges::find(shakespeare::built_layers, layers) == std::end(shakespeare::built_layers))
        throw usage_error(fmt::format("{}: --layers {}: this program was built for {} layers", program, layers,
                                      list(shakespeare::built_layers)));
    o.layers = int(layers);
    if (o.layers == shakespeare::schedule_layers) {
        if (o.mixer == "attention")
            throw usage_error(fmt::format("{}: --layers 12 is the paper's one-offset-per-layer Grassmann schedule; "
                                          "attention is built for 6 layers", program));
        if (o.width != shakespeare::schedule_width)
            throw usage_error(fmt::format("{}: --layers 12 is built at --width {} only", program, shakespeare::schedule_width));
        o.mixer = "grassmann";
    }
    if (batch < 1 || batch > max_batch)
        throw usage_error(fmt::format("{}: --batch {} must be between 1 and {} (the models' batch<{}>)", program, batch,
                                      max_batch, max_batch));
    o.batch = int(batch);
    if (vm.count("steps") && vm.count("tokens"))
        throw usage_error(fmt::format("{}: give --steps or --tokens, not both", program));
    if (vm.count("tokens")) {
        if (!(tokens >= 1 && tokens <= 1e15))
            throw usage_error(fmt::format("{}: --tokens {} must be between 1 and 1e15", program, tokens));
        steps = std::max<long long>(1, (long long)(tokens / double(o.batch * block_size)));
    } else if (!vm.count("steps")) {
        steps = 200;
    }
    if (steps < 1 || steps > 1'000'000'000)
        throw usage_error(fmt::format("{}: --steps {} must be between 1 and 1000000000", program, steps));
    o.steps = int(steps);
    if (!(o.lr > 0 && o.lr < 1e3))
        throw usage_error(fmt::format("{}: --lr {} must be positive (and below 1000)", program, o.lr));
    o.seed = seed;
    if (o.dtype != "f32" && o.dtype != "f64")
        throw usage_error(fmt::format("{}: --dtype '{}' is not f32 or f64", program, o.dtype));
    if (threads < 0 || threads > 4096)
        throw usage_error(fmt::format("{}: --threads {} must be between 0 (all cores) and 4096", program, threads));
    o.threads = int(threads);
    if (o.schedule.empty()) o.schedule = shakespeare::default_schedule;
    if (o.schedule != "operations" && o.schedule != "documents")
        throw usage_error(fmt::format("{}: --schedule '{}' is not operations or documents", program, o.schedule));
    if (vm.count("stop-after") && (stop_after < 1 || stop_after > o.steps))
        throw usage_error(fmt::format("{}: --stop-after {} must be between 1 and the run's steps ({})", program, stop_after, o.steps));
    o.stop_after = int(stop_after);
    if (eval_every < 1 || eval_every > 1'000'000'000)
        throw usage_error(fmt::format("{}: --eval-every {} must be between 1 and 1000000000", program, eval_every));
    o.eval_every = int(eval_every);
    if (!o.save.empty() && o.mixer == "both")
        throw usage_error(fmt::format("{}: --save needs one --mixer (the file holds one model)", program));
    if (!o.resume.empty() && o.mixer == "both")
        throw usage_error(fmt::format("{}: --resume needs one --mixer (the file holds one model)", program));
    return o;
}

// The whole file as code points (UTF-8), every character a token: newlines included.
std::u32string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw gflow::input_error(fmt::format("{}: cannot be read", path));
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::u32string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        const auto b = (unsigned char)bytes[i];
        const int extra = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : -1;
        char32_t c = extra == 0 ? b : extra == 1 ? b & 0x1F : extra == 2 ? b & 0x0F : b & 0x07;
        bool ok = extra >= 0 && i + extra < bytes.size();
        for (int k = 1; ok && k <= extra; ++k) {
            const auto next = (unsigned char)bytes[i + k];
            ok = (next & 0xC0) == 0x80;
            c = (c << 6) | (next & 0x3F);
        }
        if (!ok || c > 0x10FFFF || (extra > 0 && c < (extra == 1 ? 0x80u : extra == 2 ? 0x800u : 0x10000u)))
            throw gflow::input_error(fmt::format("{}: byte {}: not valid UTF-8 (0x{:02X})", path, i, b));
        out.push_back(c);
        i += std::size_t(extra) + 1;
    }
    if (out.empty()) throw gflow::input_error(fmt::format("{}: empty", path));
    return out;
}

shakespeare::text load(const std::string& path) {
    const std::u32string chars = read_text(path);
    const std::set<char32_t> distinct(chars.begin(), chars.end());
    shakespeare::text t{path, gflow::io::vocabulary::from_symbols(std::vector<char32_t>(distinct.begin(), distinct.end())), {}, {}};
    const std::size_t cut = std::size_t(0.9 * double(chars.size()));   // as int(0.9 * n) in bench/torch_models.py
    t.train.reserve(cut);
    t.val.reserve(chars.size() - cut);
    for (std::size_t i = 0; i < chars.size(); ++i) (i < cut ? t.train : t.val).push_back(t.vocab.token_of(chars[i]));
    return t;
}

boost::json::value number_or_null(double x) { return std::isfinite(x) ? boost::json::value(x) : boost::json::value(nullptr); }

std::string to_json(const shakespeare::result& r) {
    boost::json::object o;
    o["kind"] = "result";
    o["mixer"] = r.mixer;
    o["width"] = r.width;
    o["layers"] = r.layers;
    o["dtype"] = r.dtype;
    o["batch"] = r.batch;
    o["block"] = shakespeare::block_size;
    o["threads"] = r.threads;
    o["ranks"] = r.ranks;
    o["allreduce_ms"] = r.allreduce_ms;
    o["allreduce_wait_ms"] = r.allreduce_wait_ms;
    o["instruction_set"] = r.instruction_set;
    o["seed"] = r.seed;
    o["lr"] = r.lr;
    o["params"] = r.params;
    o["steps"] = r.steps;
    o["first_step"] = r.first_step;
    o["tokens"] = r.tokens;
    o["seconds"] = r.seconds;
    o["tokens_per_s"] = r.tokens_per_s;
    o["tokens_per_s_overall"] = r.tokens_per_s_overall;
    o["train_loss"] = number_or_null(r.train_loss);
    o["val_loss"] = number_or_null(r.val_loss);
    o["model_memory_mib"] = r.model_memory_mib;
    o["peak_memory_mib"] = r.peak_memory_mib;
    o["flops_per_token"] = r.speed.flops_per_step / double(r.batch * shakespeare::block_size);
    o["flops_per_step"] = r.speed.flops_per_step;
    o["gflops_per_s"] = r.speed.gflops();
    o["peak_gflops_per_s"] = r.speed.peak_gflops;
    o["peak_fraction"] = r.speed.fraction();
    const auto blas = gflow::blas::core();   // the products' kernels: the peak is out of reach on narrower ones
    o["blas_core"] = blas.core;
    o["blas_core_from_environment"] = blas.from_environment;
    o["blas_core_narrower_than_cpu"] = blas.narrower_than_cpu;
    boost::json::array samples;
    for (const auto& s : r.samples) samples.emplace_back(s);
    o["samples"] = std::move(samples);
    return boost::json::serialize(o);
}

void print_result(const shakespeare::result& r) {
    using gflow::bench::with_commas;
    fmt::print("parameters        {:>12}\n", with_commas(r.params));
    fmt::print("tokens per second {:>12.0f}   (median of the steps; {:.0f} overall)\n", r.tokens_per_s, r.tokens_per_s_overall);
    fmt::print("train loss        {:>12.4f}   (mean of the last report's steps)\n", r.train_loss);
    fmt::print("validation loss   {:>12.4f}   ({} windows of {} characters)\n", r.val_loss, shakespeare::eval_windows,
               shakespeare::block_size + 1);
    fmt::print("model memory      {:>8.1f} MiB   (weights, gradients, Adam's moments, activation arenas)\n", r.model_memory_mib);
    fmt::print("peak memory       {:>8.1f} MiB   (the process so far)\n", r.peak_memory_mib);
    if (r.ranks > 1)
        fmt::print("ranks             {:>12}   (allreduce {:.2f} ms a step; {:.2f} ms with the wait for the slowest rank)\n",
                   r.ranks, r.allreduce_ms, r.allreduce_wait_ms);
    fmt::print("compiled for      {:>12}\n", r.instruction_set);
    fmt::print("roofline          {}\n", gflow::bench::to_string(r.speed));
    fmt::print("products on       {}\n", gflow::blas::core().line());
    fmt::print("samples (temperature {}, {} characters each, from '\\n'):\n", shakespeare::sample_temperature, shakespeare::block_size);
    for (const auto& s : r.samples) fmt::print("----\n{}\n", s);
    fmt::print("----\n");
}

}  // namespace

void shakespeare::report(const options& o, const interval& r) {
    if (!gflow::distributed::world().root()) return;
    if (o.json) {
        boost::json::object j;
        j["kind"] = "report";
        j["mixer"] = r.mixer;
        j["width"] = r.width;
        j["layers"] = r.layers;
        j["dtype"] = r.dtype;
        j["step"] = r.step;
        j["tokens"] = r.tokens;
        j["seconds"] = r.seconds;
        j["tokens_per_s"] = r.tokens_per_s;
        j["train_loss"] = number_or_null(r.train_loss);
        j["val_loss"] = r.val_loss;
        fmt::print("{}\n", boost::json::serialize(j));
    } else if (r.step == 0) {
        fmt::print("step {:>6}  tokens {:>11}  {:>8}  train {:>7}  val {:.4f}\n", 0, 0, "", "", r.val_loss);
    } else {
        fmt::print("step {:>6}  tokens {:>11}  {:>6.1f} s  train {:.4f}  val {:.4f}  {:>7.0f} tokens/s\n", r.step,
                   gflow::bench::with_commas(std::size_t(r.tokens)), r.seconds, r.train_loss, r.val_loss, r.tokens_per_s);
    }
    std::fflush(stdout);
}

gflow::distributed::failure shakespeare::describe(const std::exception& e) {
    const std::string prefix = program + ": ";
    if (dynamic_cast<const usage_error*>(&e)) {   // already worded "shakespeare: ..."
        const std::string_view what = e.what();
        return {2, program, std::string(what.starts_with(prefix) ? what.substr(prefix.size()) : what)};
    }
    if (dynamic_cast<const gflow::input_error*>(&e)) return {2, program, e.what()};
    if (dynamic_cast<const std::bad_alloc*>(&e)) return {1, program, fmt::format("out of memory ({})", e.what())};
    return {1, program, e.what()};
}

namespace {

// The ranks must run one run: the same flags that shape it (not --data, --resume or --save, which
// may name other copies on other machines, nor --threads or --json) and the same text. A rank that
// differs from rank 0 says so.
void check_same_run(const gflow::distributed::job& ranks, const shakespeare::options& o, const shakespeare::text& data) {
    const std::string run = fmt::format("{} {} {} {} {} {} {} {} {} {} {}", o.mixer, o.layers, o.width, o.steps, o.batch,
                                        o.lr, o.seed, o.dtype, o.stop_after, o.eval_every, o.resume.empty());
    const bool same_flags = ranks.same_as_root(gflow::distributed::checksum(std::span<const char>(run)));
    std::vector<int> tokens(data.train);
    tokens.insert(tokens.end(), data.val.begin(), data.val.end());
    const bool same_text = ranks.same_as_root(gflow::distributed::checksum(std::span<const int>(tokens)));
    if (!same_flags)
        throw usage_error(fmt::format("{}: started with other flags than rank 0 (every rank must get the same)", program));
    if (!same_text)
        throw gflow::input_error(fmt::format("{}: not the text rank 0 read ({} characters; every rank must read the same)",
                                             data.source, gflow::bench::with_commas(tokens.size())));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gflow::bench;
    namespace distributed = gflow::distributed;
    // The ranks of an MPI job when started by mpirun (docs/distributed.md), else one rank.
    const distributed::job ranks(argc, argv);
    try {
        // Each rank on its own: the flags, the text (every rank reads all of it: 1 MB); then the
        // ranks agree that they run the same flags on the same text.
        std::optional<shakespeare::options> parsed;
        std::optional<shakespeare::text> text;
        distributed::together(ranks, [&] {
            parsed = parse(argc, argv, ranks.root());
            if (!parsed) return;
            text = load(default_data_file("tinyshakespeare.txt", parsed->data));
            if (text->vocab.size() != shakespeare::vocab_size)
                throw gflow::input_error(fmt::format("{}: the text has {} distinct characters, but the models are built for {} "
                                                     "(those of tinyshakespeare.txt)",
                                                     text->source, text->vocab.size(), shakespeare::vocab_size));
        }, shakespeare::describe);
        if (!parsed) return 0;
        const shakespeare::options& o = *parsed;
        const shakespeare::text& data = *text;
        distributed::together(ranks, [&] { check_same_run(ranks, o, data); }, shakespeare::describe);
        const bool print = !o.json && ranks.root();
        if (print)
            fmt::print("data: {}, {} characters, {} distinct; train {}, validation {}\n"
                       "run: width {}, {} layers, batch {} x {}, {} steps ({} tokens), lr {}, {}, {} threads{}, seed {}\n",
                       data.source, with_commas(data.train.size() + data.val.size()), data.vocab.size(),
                       with_commas(data.train.size()), with_commas(data.val.size()), o.width, o.layers, o.batch,
                       shakespeare::block_size, o.steps, with_commas(std::size_t(o.steps) * o.batch * shakespeare::block_size),
                       o.lr, o.dtype, o.threads > 0 ? o.threads : gflow::parallel::threads(),
                       ranks.size() > 1 ? fmt::format(" x {} ranks", ranks.size()) : "", o.seed);
        std::vector<shakespeare::result> results;
        for (const auto& mixer : o.mixers()) {
            if (print) fmt::print("\n== {} (width {}, {} layers, {}) ==\n", mixer, o.width, o.layers, o.dtype);
            std::fflush(stdout);
            results.push_back(shakespeare::run(mixer, o, data));
            if (!ranks.root()) continue;
            if (o.json) fmt::print("{}\n", to_json(results.back()));
            else print_result(results.back());
            std::fflush(stdout);
        }
        if (print) {
            // PyTorch 1.13 on 2 threads, f32, batch 8, block 256, 6 layers (docs/benchmarks.md#reference-figures).
            const auto torch = [&](const std::string& mixer) -> std::string {
                if (o.layers != 6) return "-";
                const int i = o.width == 64 ? 0 : o.width == 128 ? 1 : 2;
                static const char* attention[] = {"2,980", "2,090", "1,310"};
                static const char* grassmann[] = {"5,490", "1,980", "1,365"};
                return mixer == "attention" ? attention[i] : grassmann[i];
            };
            fmt::print("\n{:<32}{:>12}{:>12}{:>16}\n", "", "Params", "Val loss", "Tokens/s");
            for (const auto& r : results)
                fmt::print("{:<32}{:>12}{:>12.4f}{:>16.0f}\n",
                           fmt::format("gflow {} ({}L, {}, batch {})", r.mixer, r.layers, r.dtype, r.batch),
                           with_commas(r.params), r.val_loss, r.tokens_per_s);
            for (const auto& r : results)
                fmt::print("{:<32}{:>12}{:>12}{:>16}\n", fmt::format("PyTorch {} (2 threads)", r.mixer), "", "", torch(r.mixer));
            fmt::print("\npeak memory {:.1f} MiB\n", double(peak_memory_kib()) / 1024);
        }
        return 0;
    } catch (const distributed::reported& failed) {   // printed by the rank that failed
        return failed.status;
    } catch (const distributed::collective_error& e) {   // raised alike on every rank
        if (ranks.root()) fmt::print(stderr, "{}: {}\n", program, e.what());
        return 1;
    } catch (const gflow::numeric_error& e) {   // the loss is the ranks' sum: every rank stops alike
        if (ranks.root()) fmt::print(stderr, "{}: {}\n", program, e.what());
        return 1;
    } catch (const std::exception& e) {
        // One rank alone: the others may be waiting in a step's allreduce, so the whole job stops
        // here, naming this rank and the cause (MPI_Abort). With one rank: as any program.
        const distributed::failure f = shakespeare::describe(e);
        if (ranks.size() > 1) ranks.abort(f);
        fmt::print(stderr, "{}: {}\n", f.program, f.cause);
        return f.status;
    }
}
