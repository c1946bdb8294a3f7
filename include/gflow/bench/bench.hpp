// gflow/bench/bench.hpp: what every benchmark program shares (compiled in src/bench.cpp): its
// command line, where its data comes from, how it reports (tables, --json, a progress line).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gflow/bench/roofline.hpp>
#include <gflow/io/error.hpp>

namespace gflow::bench {

// A wrong command line: the programs print it on one line and exit with status 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct options {
    std::string mixer = "both";        // grassmann | attention | both
    int layers = 1;
    int steps = 0;                     // 0 before parsing: the program's default
    std::uint64_t seed = 42;
    std::string data;                  // empty: the program's default data
    std::string dtype = "f32";         // f32 | f64
    std::string order = "shuffle";     // shuffle | file
    std::string save, load;
    std::string resume;                // a training state from --save: continue that run
    int stop_after = 0;                // > 0: stop (and --save) after this step of the schedule
    int threads = 0;                   // threads of a step; 0: all the machine's cores
    bool json = false;
    std::optional<std::string> grad_doc;   // gradient mode: one document, no training
    std::string save_grads;
    std::vector<std::string> mixers() const;   // the mixers to run, in order
};

struct program_info {
    std::string name;                      // "names"
    std::string summary;                   // one line for --help
    int default_steps;
    std::vector<int> built_layers;         // the layer counts compiled in, e.g. {1, 2, 4}
};

// Parses the flags shared by the benchmarks. Returns nullopt after printing --help.
// Throws usage_error with a one-line message naming the flag.
std::optional<options> parse_options(int argc, const char* const* argv, const program_info& info);

// The first existing file of: `given` (if not empty; it must exist), then `candidates`.
// Throws input_error with `missing_help` when none exists.
std::string find_data_file(const std::string& given, const std::vector<std::string>& candidates,
                           const std::string& missing_help);

// The data file `file_name` (e.g. "names.txt") of a program that ships it in the project's data/:
// `given` if not empty (it must exist); else the first that exists of $GFLOW_DATA/file_name (when
// that variable is set), the build's source tree (<source>/data/file_name) and the installed data
// directory (<prefix>/share/gflow/file_name), so that it is found from any working directory.
// Downloads nothing. Throws input_error, one line naming the places tried and `how_to_give`
// (how the program takes a path), when none exists.
std::string default_data_file(const std::string& file_name, const std::string& given,
                              const std::string& how_to_give = "--data PATH");

struct result {
    std::string mixer;
    int layers = 1;
    std::string dtype;
    std::string instruction_set;    // what the model code was compiled for (core/simd.hpp)
    std::uint64_t seed = 0;
    std::size_t params = 0;
    int steps = 0;
    double train_loss = 0;          // mean of the last 100 training steps
    double eval_loss = 0;
    double ms_per_step = 0;         // median over chunks of 100 steps
    double tokens_per_step = 0;     // predicted tokens a step, mean over the steps
    roofline speed;                 // operations a step against the machine's peak
    std::vector<std::string> samples;
    std::map<std::string, double> extra;   // task-specific metrics, e.g. valid_fraction
    std::vector<double> loss_curve;        // training loss per 100 steps
};

struct reference_row {
    std::string mixer;
    std::string params;
    std::string eval_loss;
    std::string time_per_step;
    std::string extra;
};

void print_result(const result& r, std::size_t samples_shown);
// The comparison table, with the reference implementation's figures beside gflow's.
void print_comparison(std::span<const result> results, std::span<const reference_row> reference,
                      const std::string& extra_column = {});
// One JSON object on one line.
std::string to_json(const result& r);

// A single updating line on a terminal (stderr); silent when stderr is not a terminal.
class progress_line {
public:
    progress_line();
    ~progress_line();
    void update(const std::string& text);
    void finish();
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

private:
    bool enabled_;
    bool shown_ = false;
};

// Peak resident memory of this process so far, in KiB.
long peak_memory_kib();

// 3840 -> "3,840", as the reference implementation prints counts.
std::string with_commas(std::size_t n);

}  // namespace gflow::bench
