// gflow/checkpoint.hpp: a network's parameters to and from safetensors files, one tensor per
// parameter under the names the model's structure gives them (SPEC's table), F32 or F64.
//
// Loading is strict, as PyTorch's strict loading: every parameter must be present with its exact
// shape, and a tensor the model does not have is an error. A file written by gflow also carries
// metadata (the model's signature, anything the caller adds such as the vocabulary); when the
// file has a signature, it must be this model's.
#pragma once
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/io/error.hpp>
#include <gflow/io/safetensors.hpp>
#include <gflow/network.hpp>

namespace gflow {

inline constexpr const char* signature_key = "gflow.model";
// A training state (resumable) also has the step it reached and Adam's two moments, stored as
// tensors "optimizer.m.<parameter>" and "optimizer.v.<parameter>".
inline constexpr const char* step_key = "gflow.step";
inline constexpr std::string_view optimizer_prefix = "optimizer.";

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

// Weights, Adam's moments and the number of steps done: what --resume needs to continue a run
// bit for bit.
template <class Model, class S>
void save_training_state(const network<Model, S>& net, const std::string& path, int step,
                         std::map<std::string, std::string> metadata = {}) {
    metadata[signature_key] = Model::signature();
    metadata[step_key] = std::to_string(step);
    auto views = named_tensors(net.parameter_table(), net.parameters().data());
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
// Every tensor of `prefix` + parameter name must be in `file` with the parameter's shape.
inline void check_tensors(const io::safetensors_file& file, const std::string& path,
                          const std::vector<param_desc>& table, const std::string& prefix) {
    for (const auto& d : table) {
        const io::tensor* t = file.find(prefix + d.name);
        if (!t)
            throw input_error(fmt::format("{}: tensor '{}' is missing (the model needs [{}, {}])", path,
                                          prefix + d.name, d.rows, d.cols));
        if (t->shape != std::vector<std::size_t>{std::size_t(d.rows), std::size_t(d.cols)})
            throw input_error(fmt::format("{}: tensor '{}' has shape [{}], the model needs [{}, {}]", path,
                                          prefix + d.name, fmt::join(t->shape, ", "), d.rows, d.cols));
    }
}
template <class Model>
void check_signature(const io::safetensors_file& file, const std::string& path) {
    if (auto it = file.metadata.find(signature_key); it != file.metadata.end() && it->second != Model::signature())
        throw input_error(fmt::format("{}: the checkpoint was made for the model '{}', but this model is '{}'",
                                      path, it->second, Model::signature()));
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

// Loads every parameter from `path`; returns the file's metadata for the caller's own checks.
// Nothing is changed in `net` unless the whole file fits the model. The optimizer tensors of a
// training state are not parameters: a training state loads as plain weights too.
template <class Model, class S>
std::map<std::string, std::string> load_checkpoint(network<Model, S>& net, const std::string& path) {
    const io::safetensors_file file = io::read_safetensors(path);
    const bool training_state = file.metadata.count(step_key) > 0;
    detail::check_signature<Model>(file, path);
    const auto& table = net.parameter_table();
    detail::check_tensors(file, path, table, "");
    for (const auto& t : file.tensors) {
        if (training_state && t.name.starts_with(optimizer_prefix)) continue;
        bool known = false;
        for (const auto& d : table) known = known || d.name == t.name;
        if (!known)
            throw input_error(fmt::format("{}: tensor '{}' is not a parameter of this model", path, t.name));
    }
    detail::copy_tensors(file, table, "", net.parameters());
    return file.metadata;
}

// Loads a training state (weights and Adam's moments); returns the step it reached.
template <class Model, class S>
int load_training_state(network<Model, S>& net, const std::string& path) {
    const io::safetensors_file file = io::read_safetensors(path);
    const auto it = file.metadata.find(step_key);
    if (it == file.metadata.end())
        throw input_error(fmt::format("{}: not a training state (no '{}' in its metadata): use --load for weights alone",
                                      path, step_key));
    int step = -1;
    try {
        step = std::stoi(it->second);
    } catch (const std::exception&) {
    }
    if (step < 0) throw input_error(fmt::format("{}: the step '{}' in its metadata is not a number", path, it->second));
    detail::check_signature<Model>(file, path);
    const auto& table = net.parameter_table();
    detail::check_tensors(file, path, table, std::string(optimizer_prefix) + "m.");
    detail::check_tensors(file, path, table, std::string(optimizer_prefix) + "v.");
    load_checkpoint(net, path);
    detail::copy_tensors(file, table, std::string(optimizer_prefix) + "m.", net.adam_m());
    detail::copy_tensors(file, table, std::string(optimizer_prefix) + "v.", net.adam_v());
    return step;
}

}  // namespace gflow
