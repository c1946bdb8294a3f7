// gflow/checkpoint.hpp: a network's parameters to and from safetensors files, one tensor per
// parameter under the names the model's structure gives them (docs/benchmarks.md#parameter-names),
// F32 or F64.
//
// A weights file (save_checkpoint) holds the model's parameters and nothing else, so that a strict
// loader (PyTorch's load_state_dict(strict=True)) takes it as it is. Loading is strict the same
// way: every parameter present with its exact shape, no other tensor. What is compared is the
// parameter table, names and shapes (Model::signature()), never display labels: a file of another
// tool loads when it fits, and repeat<N>(body) and layers(body, ...) read each other's files. A
// mismatch is one line naming the first differing tensor and how many more differ. A file written
// by gflow also carries metadata (the signature, anything the caller adds such as the vocabulary).
//
// The training state (Adam's two moments and the step reached: what a resumed run needs besides
// the weights) is a file of its own, by convention beside the weights: training_state_path(
// "run/model.safetensors") is "run/model.train.safetensors" (save_training_state,
// load_training_state).
#pragma once
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/io/error.hpp>
#include <gflow/io/safetensors.hpp>
#include <gflow/network.hpp>

namespace gflow {

inline constexpr const char* signature_key = "gflow.model";
// A training state holds the step it reached (metadata) and Adam's two moments, as tensors
// "optimizer.m.<parameter>" and "optimizer.v.<parameter>"; no weights.
inline constexpr const char* step_key = "gflow.step";
inline constexpr std::string_view optimizer_prefix = "optimizer.";
inline constexpr std::string_view training_state_suffix = ".train.safetensors";

// Where the training state of the weights file `weights` goes: "run/model.safetensors" ->
// "run/model.train.safetensors"; a name without ".safetensors" gets ".train.safetensors" added.
inline std::string training_state_path(const std::string& weights) {
    constexpr std::string_view ext = ".safetensors";
    const std::string_view w = weights;
    return std::string(w.ends_with(ext) ? w.substr(0, w.size() - ext.size()) : w) + std::string(training_state_suffix);
}

template <class S>
constexpr io::dtype dtype_of() {
    static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                  "gflow: checkpoints hold float (F32) or double (F64) parameters");
    return std::is_same_v<S, float> ? io::dtype::f32 : io::dtype::f64;
}

// Named views of a parameter-shaped arena (the weights, or their gradients).
template <class S>
std::vector<io::tensor_view> named_tensors(const std::vector<param_desc>& table, const S* arena) {
    std::vector<io::tensor_view> views;
    for (const auto& d : table)
        views.push_back({d.name, {std::size_t(d.rows), std::size_t(d.cols)}, arena + d.offset, dtype_of<S>()});
    return views;
}

template <class Model, class S>
void save_checkpoint(const network<Model, S>& net, const std::string& path,
                     std::map<std::string, std::string> metadata = {}) {
    metadata[signature_key] = Model::signature();
    io::write_safetensors(path, named_tensors(net.parameter_table(), net.parameters().data()), metadata);
}

// Adam's two moments and the number of steps done: with the weights (save_checkpoint), what a
// resumed run needs to continue bit for bit. By convention written to training_state_path(weights).
template <class Model, class S>
void save_training_state(const network<Model, S>& net, const std::string& path, int step,
                         std::map<std::string, std::string> metadata = {}) {
    metadata[signature_key] = Model::signature();
    metadata[step_key] = std::to_string(step);
    std::vector<io::tensor_view> views;
    for (auto& v : named_tensors(net.parameter_table(), net.adam_m().data()))
        views.push_back({std::string(optimizer_prefix) + "m." + v.name, v.shape, v.data, v.type});
    for (auto& v : named_tensors(net.parameter_table(), net.adam_v().data()))
        views.push_back({std::string(optimizer_prefix) + "v." + v.name, v.shape, v.data, v.type});
    io::write_safetensors(path, views, metadata);
}

// The gradients of the last loss_and_gradient, under the parameters' names.
template <class Model, class S>
void save_gradients(const network<Model, S>& net, const std::string& path,
                    std::map<std::string, std::string> metadata = {}) {
    metadata[signature_key] = Model::signature();
    io::write_safetensors(path, named_tensors(net.parameter_table(), net.gradients().data()), metadata);
}

namespace detail {
// A tensor name read from a file, kept short for a one-line message (the file may come from anywhere).
inline std::string shown_name(std::string_view name) {
    return name.size() <= 60 ? std::string(name) : std::string(name.substr(0, 57)) + "...";
}

// How the tensors of `file` differ from the parameter `table` under each of `prefixes` ("" for
// weights; "optimizer.m." and "optimizer.v." for a training state). Empty when they hold exactly
// the same names and shapes (the file's parameter table has the model's signature); else one
// line: the first difference (a parameter missing or misshapen, else a tensor that is not a
// parameter) and how many more there are. Tensors whose names start with `ignored` are passed over.
inline std::string table_mismatch(const io::safetensors_file& file, const std::vector<param_desc>& table,
                                  std::initializer_list<std::string_view> prefixes, std::string_view ignored = {}) {
    std::string first;
    std::size_t count = 0;
    const auto note = [&](std::string what) {
        if (count++ == 0) first = std::move(what);
    };
    std::set<std::string, std::less<>> expected;
    for (const std::string_view prefix : prefixes)
        for (const auto& d : table) {
            std::string name = std::string(prefix) + d.name;
            const io::tensor* t = file.find(name);
            if (!t)
                note(fmt::format("tensor '{}' is missing (the model needs [{}, {}])", name, d.rows, d.cols));
            else if (t->shape != std::vector<std::size_t>{std::size_t(d.rows), std::size_t(d.cols)})
                note(fmt::format("tensor '{}' has shape [{}], the model needs [{}, {}]", name,
                                 fmt::join(t->shape, ", "), d.rows, d.cols));
            expected.insert(std::move(name));
        }
    for (const auto& t : file.tensors)
        if (!(!ignored.empty() && t.name.starts_with(ignored)) && !expected.contains(t.name))
            note(fmt::format("tensor '{}' is not a parameter of this model", shown_name(t.name)));
    if (count <= 1) return first;
    return fmt::format("{}, and {} more difference{}", first, count - 1, count == 2 ? "" : "s");
}

// A file that has a step and holds only optimizer tensors is a training state: given where weights
// are expected, it is refused as such, naming its weights file when the name follows the convention.
inline void refuse_training_state(const io::safetensors_file& file, const std::string& path) {
    const auto step = file.metadata.find(step_key);
    if (step == file.metadata.end() || file.tensors.empty()) return;
    for (const auto& t : file.tensors)
        if (!t.name.starts_with(optimizer_prefix)) return;
    const std::string_view p = path;
    const std::string weights = p.ends_with(training_state_suffix)
        ? fmt::format(": the weights are {}.safetensors beside it",
                      std::filesystem::path(p.substr(0, p.size() - training_state_suffix.size())).filename().string())
        : "";
    throw input_error(fmt::format("{}: a training state (Adam's moments at step {}), not weights{}", path,
                                  shown_name(step->second), weights));
}

// Training states written before they had a file of their own held the weights too: the optimizer
// tensors of such a file are not parameters.
inline std::string_view ignored_in_weights(const io::safetensors_file& file) {
    return file.metadata.count(step_key) ? optimizer_prefix : std::string_view{};
}

template <class S>
void copy_tensors(const io::safetensors_file& file, const std::vector<param_desc>& table,
                  const std::string& prefix, std::span<S> arena) {
    for (const auto& d : table) {
        const io::tensor* t = file.find(prefix + d.name);
        for (std::size_t i = 0; i < t->values.size(); ++i) arena[d.offset + i] = S(t->values[i]);
    }
}
}  // namespace detail

// How the weights in `file` differ from Model's parameter table, in one line (see
// detail::table_mismatch); empty when the file fits. For callers that explain a mismatch in their
// own words (the benchmark programs name the flag that would fit the file).
template <class Model>
std::string checkpoint_mismatch(const io::safetensors_file& file) {
    return detail::table_mismatch(file, Model::parameters(), {""}, detail::ignored_in_weights(file));
}

// Loads every parameter from `file` (read from `path`, named in messages); returns the file's
// metadata for the caller's own checks. Nothing is changed in `net` unless the whole file fits the
// model (strict: the same names and shapes, no other tensor).
template <class Model, class S>
std::map<std::string, std::string> load_checkpoint(network<Model, S>& net, const io::safetensors_file& file,
                                                   const std::string& path) {
    detail::refuse_training_state(file, path);
    if (const std::string mismatch = checkpoint_mismatch<Model>(file); !mismatch.empty())
        throw input_error(fmt::format("{}: {}", path, mismatch));
    detail::copy_tensors(file, net.parameter_table(), "", net.parameters());
    return file.metadata;
}

template <class Model, class S>
std::map<std::string, std::string> load_checkpoint(network<Model, S>& net, const std::string& path) {
    return load_checkpoint(net, io::read_safetensors(path), path);
}

// Loads a training state (Adam's moments; the weights are loaded apart, with load_checkpoint);
// returns the step it reached. Strict as load_checkpoint: exactly the model's optimizer tensors.
template <class Model, class S>
int load_training_state(network<Model, S>& net, const std::string& path) {
    const io::safetensors_file file = io::read_safetensors(path);
    const auto it = file.metadata.find(step_key);
    if (it == file.metadata.end())
        throw input_error(fmt::format("{}: not a training state (no '{}' in its metadata)", path, step_key));
    int step = -1;
    try {
        step = std::stoi(it->second);
    } catch (const std::exception&) {
    }
    if (step < 0)
        throw input_error(fmt::format("{}: the step '{}' in its metadata is not a number", path,
                                      detail::shown_name(it->second)));
    const std::string m = std::string(optimizer_prefix) + "m.", v = std::string(optimizer_prefix) + "v.";
    if (const std::string mismatch = detail::table_mismatch(file, net.parameter_table(), {m, v}); !mismatch.empty())
        throw input_error(fmt::format("{}: {}", path, mismatch));
    detail::copy_tensors(file, net.parameter_table(), m, net.adam_m());
    detail::copy_tensors(file, net.parameter_table(), v, net.adam_v());
    return step;
}

}  // namespace gflow
