// gflow/bench/run.hpp: one benchmark run of one model: load or initialise the weights, train,
// evaluate, sample, save; or, in gradient mode, differentiate one document. Shared by the
// benchmark programs, which differ only in their data, their model and their task's metrics.
#pragma once
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/checkpoint.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/core/simd.hpp>
#include <gflow/io/text_data.hpp>
#include <gflow/network.hpp>
#include <gflow/train.hpp>

namespace gflow::bench {

inline constexpr const char* vocabulary_key = "gflow.vocabulary";
// What a benchmark's files say of the model, in the flags' words, so that a file loaded into
// another model can be told apart in those words; and the steps its weights were trained for.
inline constexpr const char* program_key = "gflow.program";      // "names"
inline constexpr const char* mixer_key = "gflow.mixer";          // "grassmann"
inline constexpr const char* layers_key = "gflow.layers";        // "1"
inline constexpr const char* width_key = "gflow.width";          // "16"
inline constexpr const char* params_key = "gflow.params";        // "3840"
inline constexpr const char* steps_done_key = "gflow.steps_done";

// Text read from a file, kept short and on one line for a message.
inline std::string shown(std::string_view text, std::size_t most = 40) {
    std::string out;
    for (char c : text.substr(0, most)) out += (unsigned char)c < 0x20 ? '?' : c;
    return text.size() > most ? out + "..." : out;
}

// When the metadata `m` of a weights file that does not fit this run's model says which model it
// holds, what differs in the flags' words, on one line:
//   g.safetensors holds a grassmann model (1 layer, 3,840 parameters); this run builds attention
//   (4,192): use --mixer grassmann
// nullopt for a file without that metadata (another tool's), whose first differing tensor the
// library's message names instead.
inline std::optional<std::string> other_model(const std::map<std::string, std::string>& m, const std::string& path,
                                              const std::string& program, const std::string& mixer, int layers,
                                              int width, std::size_t params) {
    const auto get = [&](const char* key) {
        const auto it = m.find(key);
        return it == m.end() ? std::string() : it->second;
    };
    const std::string f_program = get(program_key), f_mixer = get(mixer_key), f_width = get(width_key);
    int f_layers = 0;
    std::size_t f_params = 0;
    try {
        f_layers = std::stoi(get(layers_key));
        f_params = std::stoul(get(params_key));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (m.count(step_key) || f_mixer.empty() || f_layers < 1) return std::nullopt;
    const bool other_program = !f_program.empty() && f_program != program;
    const bool other_width = !f_width.empty() && f_width != std::to_string(width);
    const auto count = [](int n) { return fmt::format("{} layer{}", n, n == 1 ? "" : "s"); };
    const auto holds_in = [&](const std::string& file) {
        return fmt::format("{} holds a {}{} model ({}, {} parameters{})", file,
                           other_program ? shown(f_program, 20) + " " : "", shown(f_mixer, 20), count(f_layers),
                           with_commas(f_params), other_width ? ", width " + shown(f_width, 8) : "");
    };
    std::string holds = holds_in(path);
    const std::string builds =
        fmt::format("this run builds {}{}{} ({})", mixer, f_layers != layers ? " with " + count(layers) : "",
                    other_width ? fmt::format(", width {}", width) : "", with_commas(params));
    std::string hint;
    if (other_program) {
        hint = "load it with " + shown(f_program, 20);
    } else {
        if (f_mixer != mixer) hint += " --mixer " + shown(f_mixer, 20);
        if (f_layers != layers) hint += fmt::format(" --layers {}", f_layers);
        hint = hint.empty() ? "no flag of this build fits it" : "use" + hint;
    }
    // One line under 200 characters with "program: " before it: a long path is named by its file
    // name alone (the user gave the path, and the file name says which flag it was).
    if (program.size() + 2 + holds.size() + builds.size() + hint.size() + 4 >= 200)
        holds = holds_in(std::filesystem::path(path).filename().string());
    return fmt::format("{}; {}: {}", holds, builds, hint);
}

struct corpus {
    std::string source;                 // where the documents came from, for messages
    io::vocabulary vocab;
    std::vector<document> docs;         // encoded, in training order
};

struct task {
    std::string name;                   // "names"
    std::size_t eval_docs = 200;        // the documents after the training ones
    std::size_t samples = 20;
    double temperature = 0.5;
    // task-specific metrics of the decoded samples, stored in result::extra
    std::function<void(result&)> score;
};

// The flags of `saved` ("--steps 150 --seed 42 --order file") that differ from `now`'s, with
// this run's values: "--steps 150 (this run: --steps 300)".
inline std::string other_flags(const std::string& saved, const std::string& now) {
    const auto pairs = [](const std::string& flags) {
        std::map<std::string, std::string> out;
        std::istringstream in(flags);
        for (std::string flag, value; in >> flag >> value;) out[flag] = value;
        return out;
    };
    const auto before = pairs(saved), after = pairs(now);
    std::string was, is;
    for (const auto& [flag, value] : after)
        if (auto it = before.find(flag); it == before.end() || it->second != value) {
            was += fmt::format("{}{} {}", was.empty() ? "" : " ", flag, it == before.end() ? "?" : shown(it->second, 20));
            is += fmt::format("{}{} {}", is.empty() ? "" : " ", flag, value);
        }
    return was.empty() ? "other flags" : fmt::format("{} (this run: {})", was, is);
}

// Loads the weights file `path` into `net`, refusing a file made for another model in one line
// (other_model's, else the library's, which names the first differing tensor). Returns its metadata.
template <class Model, class S>
std::map<std::string, std::string> load_weights(network<Model, S>& net, const std::string& path, const task& t,
                                                const std::string& mixer, int layers) {
    const io::safetensors_file file = io::read_safetensors(path);
    if (!checkpoint_mismatch<Model>(file).empty())
        if (auto why = other_model(file.metadata, path, t.name, mixer, layers, Model::config.width,
                                   Model::parameter_count()))
            throw input_error(*why);
    return load_checkpoint(net, file, path);
}

// Encodes documents in the given or shuffled order (docs/benchmarks.md#training-schedule: step s
// uses document s mod N).
inline corpus make_corpus(const io::document_set& set, io::vocabulary vocab, const options& o) {
    corpus c{set.source, std::move(vocab), {}};
    c.docs.reserve(set.documents.size());
    for (std::size_t i = 0; i < set.documents.size(); ++i)
        c.docs.push_back(io::encode(c.vocab, set.documents[i], set.source, i));
    if (o.order == "shuffle") {
        rng gen(o.seed);
        gen.shuffle(std::span<document>(c.docs));
    }
    return c;
}

// The vocabulary a run uses: a loaded checkpoint's own (so tokens mean what they meant in
// training), else the data's; the data's too when the checkpoint's lacks a symbol of the data,
// so that run() says what does not fit (another model, another vocabulary) in its own words.
inline io::vocabulary choose_vocabulary(const options& o, const io::document_set& set) {
    io::vocabulary data = io::vocabulary::from_documents(set);
    if (!o.load.empty()) {
        const auto file = io::read_safetensors(o.load);
        if (auto it = file.metadata.find(vocabulary_key); it != file.metadata.end()) {
            io::vocabulary saved = io::vocabulary::from_utf8(it->second, o.load);
            bool covers = true;
            for (int i = 0; i < data.size(); ++i) covers = covers && saved.token_of(data.symbol(i)) >= 0;
            if (covers) return saved;
        }
    }
    return data;
}

// Said once per program: documents longer than the block are truncated (docs/benchmarks.md#model:
// n = min(T, len - 1)).
inline void warn_about_long_documents(const corpus& data, int block, const std::string& program) {
    static bool said = false;
    std::size_t count = 0;
    for (const auto& d : data.docs) count += d.size() - 1 > std::size_t(block);
    if (count == 0 || said) return;
    said = true;
    fmt::print(stderr, "{}: note: {} of the {} documents of {} are longer than the block size {}; each is truncated to its first {} predictions\n",
               program, count, data.docs.size(), data.source, block, block);
}

template <class S, class Model>
result run(Model, const options& o, const corpus& data, const task& t, const std::string& mixer) {
    constexpr int V = Model::config.vocab;
    if (data.vocab.size() + 1 != V)
        throw input_error(fmt::format("{}: the data has {} distinct characters, but the {} model is built for {} "
                                      "(a vocabulary of {} with BOS)",
                                      data.source, data.vocab.size(), t.name, V - 1, V));
    const std::string dtype = sizeof(S) == 4 ? "f32" : "f64";
    network<Model, S> net(o.seed);
    if (!o.load.empty()) {
        const auto saved = load_weights(net, o.load, t, mixer, o.layers);
        if (auto it = saved.find(vocabulary_key); it != saved.end() && it->second != data.vocab.to_utf8())
            throw input_error(fmt::format("{}: the checkpoint's vocabulary '{}' differs from the data's '{}'", o.load,
                                          shown(it->second), shown(data.vocab.to_utf8())));
    }
    // What the run's files say: the model in the flags' words (see other_model), and what a
    // resumed run must share with the run it continues, to be the same run.
    const std::map<std::string, std::string> metadata{
        {vocabulary_key, data.vocab.to_utf8()}, {"gflow.dtype", dtype},
        {"gflow.run", fmt::format("--steps {} --seed {} --order {}", o.steps, o.seed, o.order)},
        {program_key, t.name}, {mixer_key, mixer}, {layers_key, std::to_string(o.layers)},
        {width_key, std::to_string(Model::config.width)}, {params_key, std::to_string(Model::parameter_count())}};
    int first_step = 0;
    if (!o.resume.empty()) {   // the weights, then their training state beside them (training_state_path)
        const auto saved = load_weights(net, o.resume, t, mixer, o.layers);
        const std::string state = training_state_path(o.resume);
        if (std::error_code ec; !std::filesystem::exists(state, ec))
            throw input_error(fmt::format("{} is missing: --resume reads the training state that --save writes beside the weights",
                                          state));
        first_step = load_training_state(net, state);
        if (auto it = saved.find(vocabulary_key); it == saved.end() || it->second != metadata.at(vocabulary_key))
            throw input_error(fmt::format("{}: saved by a run on data of the vocabulary '{}', this data's is '{}'", o.resume,
                                          it == saved.end() ? "(none)" : shown(it->second), shown(data.vocab.to_utf8())));
        if (auto it = saved.find("gflow.run"); it == saved.end() || it->second != metadata.at("gflow.run"))
            throw input_error(fmt::format("{}: saved by a run with {}: resume it with the same flags", o.resume,
                                          other_flags(it == saved.end() ? "" : it->second, metadata.at("gflow.run"))));
        if (auto it = saved.find(steps_done_key); it == saved.end() || it->second != std::to_string(first_step))
            throw input_error(fmt::format("{}: its weights are of step {}, its training state {} of step {}: they are of two runs",
                                          o.resume, it == saved.end() ? "(unknown)" : shown(it->second, 12),
                                          std::filesystem::path(state).filename().string(), first_step));
        if (first_step >= o.steps)
            throw input_error(fmt::format("{}: the run already reached step {} of {}", o.resume, first_step, o.steps));
    }
    const int end_step = o.stop_after > 0 ? o.stop_after : o.steps;
    if (first_step >= end_step)
        throw usage_error(fmt::format("{}: --stop-after {}: the resumed run is already at step {}", t.name, end_step, first_step));

    result r;
    r.mixer = mixer;
    r.layers = o.layers;
    r.dtype = dtype;
    r.instruction_set = simd::instruction_set;
    if (o.threads > 0) parallel::set_threads(o.threads);
    r.seed = o.seed;
    r.params = Model::parameter_count();

    if (o.grad_doc) {   // gradient mode: no training
        const std::vector<std::string> lines{*o.grad_doc};
        const auto set = io::documents_from_lines("--grad-doc", lines);
        const document doc = io::encode(data.vocab, set.documents.at(0), "--grad-doc", 0);
        const S loss = net.loss_and_gradient(doc);
        io::check_writable(o.save_grads);
        save_gradients(net, o.save_grads, metadata);
        fmt::print("loss {:.17g}\n", double(loss));
        r.eval_loss = double(loss);
        return r;
    }
    if (!o.save.empty()) {   // fail before training, not after
        io::check_writable(o.save);
        io::check_writable(training_state_path(o.save));
    }
    warn_about_long_documents(data, Model::config.block, t.name);

    progress_line progress;
    const adam opt{.decay_steps = o.steps};
    const auto report = train(net, data.docs, opt, first_step, end_step, [&](int step, double loss) {
        progress.update(fmt::format("{} {} {}: step {}/{}  loss {:.4f}", t.name, mixer, dtype, step, o.steps, loss));
    });
    progress.finish();
    r.steps = end_step;
    r.train_loss = report.final_loss;
    r.ms_per_step = report.median_us_per_step / 1000;
    r.tokens_per_step = report.tokens_per_step;
    r.speed = {.flops_per_step = report.flops_per_step, .seconds_per_step = report.median_us_per_step * 1e-6,
               .peak_gflops = peak_gflops(sizeof(S) == 8, parallel::threads()), .threads = parallel::threads()};
    r.loss_curve = report.loss_curve;
    r.eval_loss = evaluate(net, data.docs, std::size_t(end_step), t.eval_docs);

    rng gen(o.seed + 1);
    for (std::size_t i = 0; i < t.samples; ++i)
        r.samples.push_back(io::decode_utf8(data.vocab, net.sample(gen, V - 1, {.temperature = t.temperature})));
    if (t.score) t.score(r);
    if (!o.save.empty()) {   // the weights alone, as PyTorch's strict loading expects; the training state beside them
        auto weights_metadata = metadata;
        weights_metadata[steps_done_key] = std::to_string(end_step);
        save_checkpoint(net, o.save, weights_metadata);
        save_training_state(net, training_state_path(o.save), end_step, metadata);
    }
    return r;
}

// Calls f.template operator()<Layers, S>() for the run's layer count (one of Built...) and dtype.
template <int... Built, class F>
result dispatch(const options& o, F&& f) {
    result r;
    bool found = false;
    auto one = [&]<int L>() {
        if (o.layers != L) return;
        found = true;
        r = o.dtype == "f64" ? f.template operator()<L, double>() : f.template operator()<L, float>();
    };
    (one.template operator()<Built>(), ...);
    if (!found) throw usage_error(fmt::format("--layers {} was not built", o.layers));
    return r;
}

}  // namespace gflow::bench
