// The Tiny Shakespeare benchmark (docs/benchmarks.md#shakespeare): its flags, its data, what a run
// reports, and one run function per model, each in a translation unit of its own
// (shakespeare_<mixer>_<width>.cpp, f32 and f64 each) so that no file takes long to compile.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <gflow/bench/roofline.hpp>
#include <gflow/distributed.hpp>
#include <gflow/io/text_data.hpp>

namespace shakespeare {

inline constexpr int built_widths[] = {64, 128, 256};
// The step schedule unless --schedule says (gflow::step_schedule): by document, faster at every
// width here (bench/README.md: most at width 64, whose operations are too short to spread over
// the threads one at a time), for twice the activation memory.
inline constexpr const char* default_schedule = "documents";
inline constexpr int built_layers[] = {6, 12};
inline constexpr int schedule_layers = 12;       // the paper's schedule: Grassmann, width 256 only
inline constexpr int schedule_width = 256;
inline constexpr int default_eval_every = 50;    // steps between the reports (and at the end): --eval-every
inline constexpr int eval_windows = 16;          // fixed validation windows of block + 1 characters
inline constexpr std::uint64_t eval_seed = 12345;   // the same validation windows in every run
inline constexpr int sample_count = 3;
inline constexpr double sample_temperature = 0.8;
inline constexpr char32_t sample_start = U'\n';  // a sample starts from '\n' at position 0

struct options {
    std::string mixer = "both";   // grassmann | attention | both
    int layers = 6;
    int width = 256;
    int steps = 0;                // from --steps, or --tokens / (batch x block)
    int batch = 8;                // windows a step over all the ranks (each takes a share)
    double lr = 1e-3;
    std::uint64_t seed = 42;
    std::string data;
    std::string dtype = "f32";
    std::string save, resume;
    int stop_after = 0;           // > 0: stop (and --save) after this step of the schedule
    int eval_every = default_eval_every;   // steps between the reports of the losses
    int threads = 0;              // 0: all the machine's cores
    std::string schedule;         // operations | documents (gflow::step_schedule); empty: by width
    bool json = false;
    std::vector<std::string> mixers() const {
        if (mixer == "both") return {"grassmann", "attention"};
        return {mixer};
    }
};

// The text as tokens (the sorted distinct code points: 65 for tinyshakespeare.txt, no BOS), cut
// by position: the first 90 % trains, the last 10 % validates.
struct text {
    std::string source;
    gflow::io::vocabulary vocab;
    std::vector<int> train, val;
};

// A report at a fixed interval of the run (every eval_every steps and at its end).
struct interval {
    std::string mixer;
    int width = 0, layers = 0;
    std::string dtype;
    int step = 0;
    long long tokens = 0;         // trained on so far in this run
    double seconds = 0;           // training time so far (the evaluations excluded)
    double tokens_per_s = 0;      // over this interval's steps; 0 for the report before training
    double train_loss = 0;        // mean over this interval's steps; NaN before training
    double val_loss = 0;
};

struct result {
    std::string mixer;
    int width = 0, layers = 0, batch = 0, threads = 0, steps = 0, first_step = 0;
    std::string dtype, instruction_set;
    std::uint64_t seed = 0;
    double lr = 0;
    std::size_t params = 0;
    long long tokens = 0;
    double seconds = 0;
    double tokens_per_s = 0;          // median over the steps (after the first) of each step's rate
    double tokens_per_s_overall = 0;  // all tokens over all training time
    double train_loss = 0;            // mean of the last interval's steps
    double val_loss = 0;
    double model_memory_mib = 0;      // the network's arenas: weights, gradients, moments, activations
    double peak_memory_mib = 0;       // the process's peak resident memory so far
    gflow::bench::roofline speed;     // operations a step (from the model's type) against the peak
    std::vector<std::string> samples;
    // Ranks (docs/distributed.md): medians over the steps (after the first) of the gradient's
    // allreduce: on the rank that reached it last (the transfer itself), and on the rank that
    // waited longest (with the wait for slower ranks). 0 with one rank.
    int ranks = 1;
    double allreduce_ms = 0, allreduce_wait_ms = 0;
};

// Printing, in shakespeare.cpp: a line of text, or one JSON object on one line (rank 0 alone).
void report(const options& o, const interval& r);
// The failure an exception amounts to, as the program reports it (shakespeare.cpp): exit status 2
// for bad flags and bad input, 1 for the rest.
gflow::distributed::failure describe(const std::exception& e);

result run_grassmann_64(const options&, const text&);
result run_grassmann_128(const options&, const text&);
result run_grassmann_256(const options&, const text&);
result run_attention_64(const options&, const text&);
result run_attention_128(const options&, const text&);
result run_attention_256(const options&, const text&);
result run_grassmann_256_schedule(const options&, const text&);   // --layers 12

// The run of `mixer` at o.width and o.layers (the flags are checked before), from the translation
// unit that holds that model.
inline result run(const std::string& mixer, const options& o, const text& t) {
    if (o.layers == schedule_layers) return run_grassmann_256_schedule(o, t);
    if (mixer == "grassmann")
        return o.width == 64 ? run_grassmann_64(o, t) : o.width == 128 ? run_grassmann_128(o, t) : run_grassmann_256(o, t);
    return o.width == 64 ? run_attention_64(o, t) : o.width == 128 ? run_attention_128(o, t) : run_attention_256(o, t);
}

}  // namespace shakespeare
