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

// The gradients of the last loss_and_gradient, under the parameters' names.
template <class Model, class S>
void save_gradients(const network<Model, S>& net, const std::string& path,
                    std::map<std::string, std::string> metadata = {}) {
    metadata[signature_key] = Model::signature();
    io::write_safetensors(path, named_tensors(net.parameter_table(), net.gradients().data()), metadata);
}

// Loads every parameter from `path`; returns the file's metadata for the caller's own checks.
// Nothing is changed in `net` unless the whole file fits the model.
template <class Model, class S>
std::map<std::string, std::string> load_checkpoint(network<Model, S>& net, const std::string& path) {
    const io::safetensors_file file = io::read_safetensors(path);
    if (auto it = file.metadata.find(signature_key); it != file.metadata.end() && it->second != Model::signature())
        throw input_error(fmt::format("{}: the checkpoint was made for the model '{}', but this model is '{}'",
                                      path, it->second, Model::signature()));
    const auto& table = net.parameter_table();
    for (const auto& d : table) {
        const io::tensor* t = file.find(d.name);
        if (!t)
            throw input_error(fmt::format("{}: tensor '{}' is missing (the model needs [{}, {}])", path,
                                          d.name, d.rows, d.cols));
        if (t->shape != std::vector<std::size_t>{std::size_t(d.rows), std::size_t(d.cols)})
            throw input_error(fmt::format("{}: tensor '{}' has shape [{}], the model needs [{}, {}]", path,
                                          d.name, fmt::join(t->shape, ", "), d.rows, d.cols));
    }
    for (const auto& t : file.tensors) {
        bool known = false;
        for (const auto& d : table) known = known || d.name == t.name;
        if (!known)
            throw input_error(fmt::format("{}: tensor '{}' is not a parameter of this model", path, t.name));
    }
    auto w = net.parameters();
    for (const auto& d : table) {
        const io::tensor* t = file.find(d.name);
        for (std::size_t i = 0; i < t->values.size(); ++i) w[d.offset + i] = S(t->values[i]);
    }
    return file.metadata;
}

}  // namespace gflow
