// One run of the Tiny Shakespeare benchmark (docs/benchmarks.md#shakespeare) for one model and
// scalar type: initialise (or --resume), train on batches of random windows, report at fixed
// intervals, sample, save. Included by the per-model translation units (shakespeare_*.cpp).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/run.hpp>
#include <gflow/checkpoint.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/core/simd.hpp>
#include <gflow/distributed.hpp>
#include <gflow/network.hpp>
#include <gflow/random.hpp>
#include <gflow/train.hpp>

#include "shakespeare_model.hpp"
#include "shakespeare_runs.hpp"

namespace shakespeare {

namespace impl {

// B windows of block + 1 characters at uniform offsets of `split` (gen draws one offset each).
inline void draw_windows(gflow::rng& gen, const std::vector<int>& split, std::span<gflow::document> out) {
    const std::size_t length = out.empty() ? 0 : out[0].size();
    for (auto& w : out) {
        const std::size_t start = gen.below(split.size() - length + 1);
        std::copy_n(split.begin() + std::ptrdiff_t(start), length, w.begin());
    }
}

}  // namespace impl

template <class S, class Model>
result train(Model, const options& o, const text& data, const std::string& mixer) {
    using gflow::input_error;
    namespace distributed = gflow::distributed;
    constexpr int V = Model::config.vocab, T = Model::config.block, W = Model::config.width;
    static_assert(V == vocab_size && T == block_size && Model::config.batch == max_batch);
    const std::string program = "shakespeare";
    // The ranks of an MPI job (docs/distributed.md): each takes a share of every batch; rank 0
    // alone prints, samples and writes. One rank when not started by mpirun.
    const distributed::job& ranks = distributed::world();
    const std::string dtype = sizeof(S) == 4 ? "f32" : "f64";

    // What the run's files say: the model in the flags' words (gflow::bench::other_model) and what a
    // resumed run must share with the run it continues. Not the rank count: the run is the same
    // whatever it is, and a run saved with N ranks resumes with M.
    const std::map<std::string, std::string> metadata{
        {gflow::bench::vocabulary_key, data.vocab.to_utf8()}, {"gflow.dtype", dtype},
        {"gflow.run", fmt::format("--steps {} --seed {} --batch {} --lr {} --dtype {} --schedule {}", o.steps, o.seed,
                                  o.batch, o.lr, dtype, o.schedule)},
        {gflow::bench::program_key, program}, {gflow::bench::mixer_key, mixer},
        {gflow::bench::layers_key, std::to_string(o.layers)}, {gflow::bench::width_key, std::to_string(W)},
        {gflow::bench::params_key, std::to_string(Model::parameter_count())}};
    const gflow::bench::task task{.name = program, .eval_docs = 0, .samples = 0, .temperature = sample_temperature, .score = {}};

    // Each rank on its own: the network, the checkpoint it resumes (every rank reads it), the
    // file rank 0 will write; then every rank learns whether any failed (distributed::together).
    std::unique_ptr<gflow::network<Model, S>> net;
    int first_step = 0, end_step = 0;
    distributed::together(ranks, [&] {
        if (data.vocab.size() != V)
            throw input_error(fmt::format("{}: the text has {} distinct characters, but the model is built for {} "
                                          "(the characters of tinyshakespeare.txt)",
                                          data.source, data.vocab.size(), V));
        if (data.train.size() < std::size_t(T) + 1 || data.val.size() < std::size_t(T) + 1)
            throw input_error(fmt::format("{}: {} characters: too short for windows of {} characters in both splits",
                                          data.source, data.train.size() + data.val.size(), T + 1));
        net = std::make_unique<gflow::network<Model, S>>(o.seed, init_std);
        if (!o.resume.empty()) {   // the weights, then their training state beside them
            const auto saved = gflow::bench::load_weights(*net, o.resume, task, mixer, o.layers);
            const std::string state = gflow::training_state_path(o.resume);
            if (std::error_code ec; !std::filesystem::exists(state, ec))
                throw input_error(fmt::format("{} is missing: --resume reads the training state that --save writes beside the weights", state));
            first_step = gflow::load_training_state(*net, state);
            const auto get = [&](const std::string& key) {
                const auto it = saved.find(key);
                return it == saved.end() ? std::string() : it->second;
            };
            if (get(gflow::bench::vocabulary_key) != metadata.at(gflow::bench::vocabulary_key))
                throw input_error(fmt::format("{}: saved by a run on text of another vocabulary", o.resume));
            if (get("gflow.run") != metadata.at("gflow.run"))
                throw input_error(fmt::format("{}: saved by a run with {}: resume it with the same flags", o.resume,
                                              gflow::bench::other_flags(get("gflow.run"), metadata.at("gflow.run"))));
            if (get(gflow::bench::steps_done_key) != std::to_string(first_step))
                throw input_error(fmt::format("{}: its weights are of step {}, its training state {} of step {}: they are of two runs",
                                              o.resume, gflow::bench::shown(get(gflow::bench::steps_done_key), 12),
                                              std::filesystem::path(state).filename().string(), first_step));
            if (first_step >= o.steps)
                throw input_error(fmt::format("{}: the run already reached step {} of {}", o.resume, first_step, o.steps));
        }
        end_step = o.stop_after > 0 ? o.stop_after : o.steps;
        if (first_step >= end_step)
            throw gflow::bench::usage_error(fmt::format("{}: --stop-after {}: the resumed run is already at step {}", program, end_step, first_step));
        if (!o.save.empty() && ranks.root()) {   // fail before training, not after
            gflow::io::check_writable(o.save);
            gflow::io::check_writable(gflow::training_state_path(o.save));
        }
    }, describe);
    // Every rank starts from the same weights (the same seed, or the same checkpoint file).
    distributed::check_identical(*net, ranks, first_step);
    if (o.threads > 0) gflow::parallel::set_threads(o.threads);
    net->set_schedule(o.schedule == "documents" ? gflow::step_schedule::by_document : gflow::step_schedule::by_operation);

    result r;
    r.mixer = mixer;
    r.width = W;
    r.layers = o.layers;
    r.batch = o.batch;
    r.threads = gflow::parallel::threads();
    r.ranks = ranks.size();
    r.dtype = dtype;
    r.instruction_set = gflow::simd::instruction_set;
    r.seed = o.seed;
    r.lr = o.lr;
    r.params = Model::parameter_count();
    r.steps = end_step;
    r.first_step = first_step;
    r.model_memory_mib = double(net->allocated_bytes()) / (1 << 20);

    // The validation windows: fixed (eval_seed), each rank evaluating its share in batches of the
    // model's most; the losses summed over the ranks.
    std::vector<gflow::document> val(eval_windows, gflow::document(T + 1));
    {
        gflow::rng gen(eval_seed);
        impl::draw_windows(gen, data.val, val);
    }
    const auto validation_loss = [&] {
        const distributed::range mine = distributed::share_of(val.size(), ranks.rank(), ranks.size());
        double sums[2] = {0, 0};   // loss, tokens
        for (std::size_t b = mine.begin; b < mine.end; b += max_batch) {
            const std::size_t count = std::min<std::size_t>(max_batch, mine.end - b);
            sums[0] += double(net->loss(std::span<const gflow::document>(val.data() + b, count))) * double(count * T);
            sums[1] += double(count * T);
        }
        ranks.sum(std::span<double>(sums));
        return sums[0] / sums[1];
    };

    // The training windows: step s takes the s-th o.batch draws of the generator (seed + 2; the
    // weights use seed, the samples seed + 1), so a resumed run skips the draws of the steps done.
    // Every rank draws the whole global batch (the same windows whatever the rank count) and
    // trains on its share of it (distributed::loss_and_gradient).
    gflow::rng windows(o.seed + 2);
    std::vector<gflow::document> batch(o.batch, gflow::document(T + 1));
    for (int s = 0; s < first_step; ++s) impl::draw_windows(windows, data.train, batch);

    const gflow::adam opt{.lr = o.lr, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = o.steps};
    const long long tokens_per_step = (long long)o.batch * T;
    interval line{.mixer = mixer, .width = W, .layers = o.layers, .dtype = dtype};
    if (first_step == 0) {   // the loss before training (ln 65 = 4.17 for uniform predictions)
        line.train_loss = std::numeric_limits<double>::quiet_NaN();
        line.val_loss = validation_loss();
        report(o, line);
    }
    gflow::bench::progress_line progress;
    std::vector<double> step_rates, allreduce_s;
    allreduce_s.reserve(std::size_t(end_step - first_step));
    double seconds = 0, interval_seconds = 0, interval_loss = 0, last_finite = NAN;
    int interval_steps = 0;
    for (int s = first_step; s < end_step; ++s) {
        impl::draw_windows(windows, data.train, batch);
        const auto t0 = std::chrono::steady_clock::now();
        distributed::step_times times;
        const double loss = distributed::loss_and_gradient(*net, ranks, std::span<const gflow::document>(batch), &times);
        if (!std::isfinite(loss))   // the loss summed over the ranks: every rank stops here alike
            throw gflow::numeric_error(fmt::format("training stopped at step {}: the loss is {} ({}); {}", s, loss,
                                                   std::isnan(last_finite) ? std::string("the first step of this run")
                                                                           : fmt::format("last finite loss {:.6g}", last_finite),
                                                   gflow::detail::first_non_finite(*net)));
        net->apply_update(opt, s);
        distributed::check_identical(*net, ranks, s + 1);
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_finite = loss;
        seconds += dt;
        interval_seconds += dt;
        interval_loss += loss;
        ++interval_steps;
        if (s > first_step || end_step - first_step == 1) {
            step_rates.push_back(double(tokens_per_step) / dt);
            allreduce_s.push_back(times.allreduce_s);
        }
        const int done = s + 1;
        const double left = seconds / double(done - first_step) * double(end_step - done);
        if (ranks.root())
            progress.update(fmt::format("{} {} w{} {}: step {}/{}  loss {:.4f}  {:.0f} tokens/s  {:.0f} s left", program, mixer, W,
                                        dtype, done, o.steps, loss, double(tokens_per_step) * (done - first_step) / seconds, left));
        if (done % o.eval_every == 0 || done == end_step) {
            progress.finish();
            line.step = done;
            line.tokens = tokens_per_step * (done - first_step);
            line.seconds = seconds;
            line.tokens_per_s = double(tokens_per_step) * interval_steps / interval_seconds;
            line.train_loss = interval_loss / interval_steps;
            line.val_loss = validation_loss();
            report(o, line);
            interval_seconds = interval_loss = 0;
            interval_steps = 0;
        }
    }
    progress.finish();
    r.tokens = tokens_per_step * (end_step - first_step);
    r.seconds = seconds;
    r.tokens_per_s_overall = double(r.tokens) / seconds;
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const std::size_t m = v.size();
        return m == 0 ? 0.0 : m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    };
    r.tokens_per_s = median(step_rates);
    if (ranks.size() > 1) {   // the allreduce as the rank that came last saw it, and as the one that waited most
        std::vector<double> last = allreduce_s, longest = allreduce_s;
        ranks.min(last);
        ranks.max(longest);
        r.allreduce_ms = 1e3 * median(last);
        r.allreduce_wait_ms = 1e3 * median(longest);
    }
    r.train_loss = line.train_loss;
    r.val_loss = line.val_loss;
    r.speed = {.flops_per_step = double(o.batch) * Model::flops(T).total(),
               .seconds_per_step = double(tokens_per_step) / r.tokens_per_s,
               // each rank's cores: rank 0's peak (its threads, measured there alone) times the ranks
               .peak_gflops = ranks.root() ? r.ranks * gflow::bench::peak_gflops(sizeof(S) == 8, r.threads) : 0,
               .threads = r.threads * r.ranks};

    if (ranks.root()) {
        gflow::rng gen(o.seed + 1);
        const int start = data.vocab.token_of(sample_start);
        for (int i = 0; i < sample_count; ++i) {
            const auto tokens = net->sample(gen, start < 0 ? 0 : start,
                                            {.temperature = sample_temperature, .stop_at_start = false});
            r.samples.push_back(gflow::io::decode_utf8(data.vocab, tokens));
        }
    }
    if (!o.save.empty() && ranks.root()) {   // the weights alone (PyTorch's strict loading); the training state beside them
        auto weights_metadata = metadata;
        weights_metadata[gflow::bench::steps_done_key] = std::to_string(end_step);
        gflow::save_checkpoint(*net, o.save, weights_metadata);
        gflow::save_training_state(*net, gflow::training_state_path(o.save), end_step, metadata);
    }
    r.peak_memory_mib = double(gflow::bench::peak_memory_kib()) / 1024;
    return r;
}

}  // namespace shakespeare
