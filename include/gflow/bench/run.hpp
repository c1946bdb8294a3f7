// gflow/bench/run.hpp: one benchmark run of one model: load or initialise the weights, train,
// evaluate, sample, save; or, in gradient mode, differentiate one document. Shared by the
// benchmark programs, which differ only in their data, their model and their task's metrics.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/checkpoint.hpp>
#include <gflow/io/text_data.hpp>
#include <gflow/network.hpp>
#include <gflow/train.hpp>

namespace gflow::bench {

inline constexpr const char* vocabulary_key = "gflow.vocabulary";

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

// Encodes documents in the given or shuffled order (SPEC: step s uses document s mod N).
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
// training), else the data's.
inline io::vocabulary choose_vocabulary(const options& o, const io::document_set& set) {
    if (!o.load.empty()) {
        const auto file = io::read_safetensors(o.load);
        if (auto it = file.metadata.find(vocabulary_key); it != file.metadata.end())
            return io::vocabulary::from_utf8(it->second, o.load);
    }
    return io::vocabulary::from_documents(set);
}

// Said once per program: documents longer than the block are truncated (SPEC: n = min(T, len - 1)).
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
        const auto metadata = load_checkpoint(net, o.load);
        if (auto it = metadata.find(vocabulary_key); it != metadata.end() && it->second != data.vocab.to_utf8())
            throw input_error(fmt::format("{}: the checkpoint's vocabulary '{}' differs from the data's '{}'", o.load,
                                          it->second, data.vocab.to_utf8()));
    }
    // What a resumed run must share with the run it continues, to be the same run.
    const std::map<std::string, std::string> metadata{
        {vocabulary_key, data.vocab.to_utf8()}, {"gflow.dtype", dtype},
        {"gflow.run", fmt::format("--steps {} --seed {} --order {}", o.steps, o.seed, o.order)}};
    int first_step = 0;
    if (!o.resume.empty()) {
        first_step = load_training_state(net, o.resume);
        const auto saved = io::read_safetensors(o.resume).metadata;
        for (const char* key : {vocabulary_key, "gflow.run"})
            if (auto it = saved.find(key); it == saved.end() || it->second != metadata.at(key))
                throw input_error(fmt::format("{}: this training state was made by a run with {} '{}', not '{}'", o.resume,
                                              key, it == saved.end() ? "(none)" : it->second, metadata.at(key)));
        if (first_step >= o.steps)
            throw input_error(fmt::format("{}: the run already reached step {} of {}", o.resume, first_step, o.steps));
    }
    const int end_step = o.stop_after > 0 ? o.stop_after : o.steps;
    if (first_step >= end_step)
        throw usage_error(fmt::format("--stop-after {}: the resumed run is already at step {}", end_step, first_step));

    result r;
    r.mixer = mixer;
    r.layers = o.layers;
    r.dtype = dtype;
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
    if (!o.save.empty()) io::check_writable(o.save);   // fail before training, not after
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
    r.loss_curve = report.loss_curve;
    r.eval_loss = evaluate(net, data.docs, std::size_t(end_step), t.eval_docs);

    rng gen(o.seed + 1);
    for (std::size_t i = 0; i < t.samples; ++i)
        r.samples.push_back(io::decode_utf8(data.vocab, net.sample(gen, V - 1, {.temperature = t.temperature})));
    if (t.score) t.score(r);
    if (!o.save.empty()) save_training_state(net, o.save, end_step, metadata);
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
