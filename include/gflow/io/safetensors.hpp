#pragma once
// Reading and writing safetensors files: an 8-byte little-endian header length N, N bytes of
// JSON naming each tensor's dtype, shape and byte range, then the raw little-endian data.
//
// The reader treats the file as untrusted input: every malformed file ends in a one-line
// gflow::input_error naming the file and the problem, never in a crash or a huge allocation.

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gflow/io/error.hpp"

namespace gflow::io {

enum class dtype { f32, f64 };

// "F32" / "F64", the spelling used in the file header.
std::string_view dtype_name(dtype type) noexcept;
// Bytes per element: 4 / 8.
std::size_t dtype_size(dtype type) noexcept;

// What the writer takes: a view of caller memory.
struct tensor_view {
    std::string name;
    std::vector<std::size_t> shape;
    const void* data;  // contiguous, row-major, little-endian host values of `type`
    dtype type;
};

// What the reader gives back.
struct tensor {
    std::string name;
    dtype type;  // dtype stored in the file
    std::vector<std::size_t> shape;
    std::vector<double> values;  // converted to double (F32 -> double is exact)
};

struct safetensors_file {
    // The "__metadata__" object (string -> string), empty if absent.
    std::map<std::string, std::string> metadata;
    std::vector<tensor> tensors;                      // in the order of their data offsets
    const tensor* find(std::string_view name) const;  // nullptr if absent
};

// Throws gflow::input_error when the file is missing, unreadable or malformed in any way.
safetensors_file read_safetensors(const std::string& path);

// Writes to path + ".tmp" in the same directory, then renames it over `path`, so an
// interrupted write never leaves a half-written file. On failure the temporary file is removed
// and gflow::input_error naming the path is thrown.
//
// Tensors are stored back to back in the given order. The header is padded with spaces so that
// the data starts at an 8-byte aligned file offset. There are no gaps between tensors, because
// the reference safetensors library (and so PyTorch) rejects files whose byte ranges leave gaps.
void write_safetensors(const std::string& path, std::span<const tensor_view> tensors,
                       const std::map<std::string, std::string>& metadata);

// Throws gflow::input_error if a file cannot be created at `path` (its directory does not exist,
// is not a directory, or is not writable). Checked by creating and removing path + ".tmp", so
// that a long run fails before it starts rather than when it saves.
void check_writable(const std::string& path);

}  // namespace gflow::io
