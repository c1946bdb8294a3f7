#include "gflow/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gflow::io {

// Values are copied between the file and memory as raw bytes.
static_assert(std::endian::native == std::endian::little,
              "gflow's safetensors I/O copies raw host values; a big-endian host needs byte swaps");

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The reference implementation's limit: a larger header means a corrupt or hostile file.
constexpr std::uint64_t max_header_bytes = 100'000'000;
constexpr std::size_t length_prefix_bytes = 8;

template <class... Args>
[[noreturn]] void fail(const std::string& path, fmt::format_string<Args...> format,
                       Args&&... args) {
    throw input_error(
        fmt::format("{}: {}", path, fmt::format(format, std::forward<Args>(args)...)));
}

// A name from the file, quoted for a one-line message: control characters escaped (a newline
// would split the message) and long names cut short.
std::string quote_name(std::string_view text) {
    constexpr std::size_t max_shown = 80;
    std::string out = "'";
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == max_shown) {
            out += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7f) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += text[i];
        }
    }
    out += '\'';
    return out;
}

// errno as text; libstdc++'s file streams fail through open(2), which sets it.
std::string os_error_text(int error_number) {
    return error_number != 0 ? std::generic_category().message(error_number) : "unknown error";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Element count times element size, or nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> byte_count(const std::vector<std::size_t>& shape, dtype type) {
    std::uint64_t count = 1;
    for (const std::size_t extent : shape) {
        if (extent != 0 && count > std::numeric_limits<std::uint64_t>::max() / extent) {
            return std::nullopt;
        }
        count *= extent;
    }
    const std::uint64_t element_bytes = dtype_size(type);
    if (count > std::numeric_limits<std::uint64_t>::max() / element_bytes) {
        return std::nullopt;
    }
    return count * element_bytes;
}

// A JSON number that is a non-negative integer (parsed as int64 or uint64), else nullopt.
// Floating-point numbers such as 4.0 are refused: the format stores integers.
std::optional<std::uint64_t> as_count(const json::value& value) {
    if (value.is_uint64()) {
        return value.get_uint64();
    }
    if (value.is_int64() && value.get_int64() >= 0) {
        return static_cast<std::uint64_t>(value.get_int64());
    }
    return std::nullopt;
}

std::optional<dtype> parse_dtype(std::string_view name) {
    if (name == "F32") {
        return dtype::f32;
    }
    if (name == "F64") {
        return dtype::f64;
    }
    return std::nullopt;
}

struct file_info {
    std::uintmax_t size;
};

// Refuses anything but an existing regular file, with a message saying which case it is.
file_info inspect_input_file(const std::string& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (status.type() == fs::file_type::not_found) {
        fail(path, "no such file");
    }
    if (error) {
        fail(path, "cannot access: {}", error.message());
    }
    if (status.type() == fs::file_type::directory) {
        fail(path, "is a directory, not a safetensors file");
    }
    if (status.type() != fs::file_type::regular) {
        fail(path, "is not a regular file");
    }
    const std::uintmax_t size = fs::file_size(path, error);
    if (error) {
        fail(path, "cannot determine the file size: {}", error.message());
    }
    return {size};
}

void read_exactly(std::ifstream& in, const std::string& path, char* destination,
                  std::uint64_t count) {
    in.read(destination, static_cast<std::streamsize>(count));
    if (static_cast<std::uint64_t>(in.gcount()) != count) {
        fail(path, "read error after {} of {} bytes (did the file change while reading?)",
             in.gcount(), count);
    }
}

// One tensor's header entry, validated against the size of the data section.
struct tensor_entry {
    tensor content;  // values not yet loaded
    std::uint64_t begin;
    std::uint64_t end;
};

tensor_entry parse_tensor_entry(const std::string& path, const std::string& name,
                                const json::value& value, std::uint64_t data_bytes) {
    const std::string tensor_name = quote_name(name);
    const json::object* entry = value.if_object();
    if (entry == nullptr) {
        fail(path, "tensor {}: header entry is not a JSON object", tensor_name);
    }
    const auto field = [&](std::string_view key) -> const json::value& {
        const json::value* found = entry->if_contains(key);
        if (found == nullptr) {
            fail(path, "tensor {}: header entry is missing \"{}\"", tensor_name, key);
        }
        return *found;
    };

    tensor_entry result{};
    result.content.name = name;

    const json::value& dtype_value = field("dtype");
    if (!dtype_value.is_string()) {
        fail(path, "tensor {}: \"dtype\" is not a string", tensor_name);
    }
    const std::string_view dtype_text = dtype_value.get_string();
    const std::optional<dtype> type = parse_dtype(dtype_text);
    if (!type) {
        fail(path, "tensor {} has dtype {}, which is not supported (gflow reads F32 and F64)",
             tensor_name, quote_name(dtype_text));
    }
    result.content.type = *type;

    const json::value& shape_value = field("shape");
    if (!shape_value.is_array()) {
        fail(path, "tensor {}: \"shape\" is not an array", tensor_name);
    }
    for (const json::value& extent : shape_value.get_array()) {
        const std::optional<std::uint64_t> count = as_count(extent);
        if (!count || *count > std::numeric_limits<std::size_t>::max()) {
            fail(path, "tensor {}: \"shape\" holds {}, not a non-negative integer", tensor_name,
                 json::serialize(extent));
        }
        result.content.shape.push_back(static_cast<std::size_t>(*count));
    }
    const std::optional<std::uint64_t> expected_bytes = byte_count(result.content.shape, *type);
    if (!expected_bytes) {
        fail(path, "tensor {}: shape {} overflows: its byte size does not fit in 64 bits",
             tensor_name, shape_text(result.content.shape));
    }

    const json::value& offsets_value = field("data_offsets");
    const json::array* offsets = offsets_value.if_array();
    std::optional<std::uint64_t> begin;
    std::optional<std::uint64_t> end;
    if (offsets != nullptr && offsets->size() == 2) {
        begin = as_count((*offsets)[0]);
        end = as_count((*offsets)[1]);
    }
    if (!begin || !end) {
        fail(path, "tensor {}: \"data_offsets\" is {}, not an array of two non-negative integers",
             tensor_name, json::serialize(offsets_value));
    }
    if (*end < *begin) {
        fail(path, "tensor {}: data_offsets [{}, {}] end before they begin", tensor_name, *begin,
             *end);
    }
    if (*end - *begin != *expected_bytes) {
        fail(path,
             "tensor {}: data_offsets [{}, {}] span {} bytes, but dtype {} and shape {} need {}",
             tensor_name, *begin, *end, *end - *begin, dtype_text, shape_text(result.content.shape),
             *expected_bytes);
    }
    if (*end > data_bytes) {
        fail(path,
             "tensor {}: data_offsets [{}, {}] run past the end of the file (the data section "
             "holds {} bytes; truncated?)",
             tensor_name, *begin, *end, data_bytes);
    }
    result.begin = *begin;
    result.end = *end;
    return result;
}

std::map<std::string, std::string> parse_metadata(const std::string& path,
                                                  const json::value& value) {
    const json::object* object = value.if_object();
    if (object == nullptr) {
        fail(path, "\"__metadata__\" is not a JSON object");
    }
    std::map<std::string, std::string> metadata;
    for (const json::key_value_pair& item : *object) {
        if (!item.value().is_string()) {
            fail(path, "metadata value for key {} is not a string", quote_name(item.key()));
        }
        metadata[std::string(item.key())] = std::string(item.value().get_string());
    }
    return metadata;
}

void load_values(tensor& destination, const unsigned char* source) {
    const std::size_t count = destination.values.size();
    if (destination.type == dtype::f32) {
        for (std::size_t i = 0; i < count; ++i) {
            float value;
            std::memcpy(&value, source + i * sizeof(float), sizeof(float));
            destination.values[i] = value;
        }
    } else {
        std::memcpy(destination.values.data(), source, count * sizeof(double));
    }
}

// Why a file cannot be created at `path`: the directory is missing or not one, else errno.
std::string explain_cannot_create(const std::string& path, int error_number) {
    fs::path directory = fs::path(path).parent_path();
    if (directory.empty()) {
        directory = ".";
    }
    std::error_code error;
    const fs::file_status status = fs::status(directory, error);
    if (status.type() == fs::file_type::not_found) {
        return fmt::format("directory '{}' does not exist", directory.string());
    }
    if (status.type() != fs::file_type::directory && !error) {
        return fmt::format("'{}' is not a directory", directory.string());
    }
    return fmt::format("cannot create a file in directory '{}': {}", directory.string(),
                       os_error_text(error_number));
}

void refuse_directory_target(const std::string& path) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
        fail(path, "is a directory; give a file name to write");
    }
}

}  // namespace

std::string_view dtype_name(dtype type) noexcept {
    return type == dtype::f32 ? "F32" : "F64";
}

std::size_t dtype_size(dtype type) noexcept {
    return type == dtype::f32 ? sizeof(float) : sizeof(double);
}

const tensor* safetensors_file::find(std::string_view name) const {
    const auto found = std::find_if(tensors.begin(), tensors.end(),
                                    [&](const tensor& t) { return t.name == name; });
    return found == tensors.end() ? nullptr : &*found;
}

safetensors_file read_safetensors(const std::string& path) {
    const std::uint64_t file_bytes = inspect_input_file(path).size;
    if (file_bytes < length_prefix_bytes) {
        fail(path, "file is {} bytes, too short for the 8-byte header length (truncated?)",
             file_bytes);
    }

    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(path, "cannot open for reading: {}", os_error_text(errno));
    }

    unsigned char prefix[length_prefix_bytes];
    read_exactly(in, path, reinterpret_cast<char*>(prefix), length_prefix_bytes);
    std::uint64_t header_bytes = 0;
    for (std::size_t i = length_prefix_bytes; i-- > 0;) {
        header_bytes = (header_bytes << 8) | prefix[i];
    }
    if (header_bytes > file_bytes - length_prefix_bytes) {
        fail(path,
             "header length {} runs past the end of the file ({} bytes; truncated or not a "
             "safetensors file)",
             header_bytes, file_bytes);
    }
    if (header_bytes > max_header_bytes) {
        fail(path, "header length {} exceeds the {} byte limit (corrupt file?)", header_bytes,
             max_header_bytes);
    }
    const std::uint64_t data_bytes = file_bytes - length_prefix_bytes - header_bytes;

    std::string header_text(static_cast<std::size_t>(header_bytes), '\0');
    read_exactly(in, path, header_text.data(), header_bytes);

    json::error_code parse_error;
    const json::value header = json::parse(header_text, parse_error);
    if (parse_error) {
        fail(path, "header is not valid JSON ({})", parse_error.message());
    }
    const json::object* entries = header.if_object();
    if (entries == nullptr) {
        fail(path, "header is not a JSON object");
    }

    // Names are unique: Boost.JSON keeps the last of repeated keys, as Python's json does.
    safetensors_file result;
    std::vector<tensor_entry> tensors;
    for (const json::key_value_pair& item : *entries) {
        const std::string name(item.key());
        if (name == "__metadata__") {
            result.metadata = parse_metadata(path, item.value());
        } else {
            tensors.push_back(parse_tensor_entry(path, name, item.value(), data_bytes));
        }
    }

    std::sort(tensors.begin(), tensors.end(), [](const tensor_entry& a, const tensor_entry& b) {
        return std::tie(a.begin, a.end, a.content.name) < std::tie(b.begin, b.end, b.content.name);
    });
    // Sorted by begin, a range overlaps an earlier one exactly when it starts before the
    // furthest end seen so far. Empty ranges hold no bytes and overlap nothing.
    std::uint64_t furthest_end = 0;
    const tensor_entry* furthest = nullptr;
    for (const tensor_entry& entry : tensors) {
        if (entry.begin == entry.end) {
            continue;
        }
        if (furthest != nullptr && entry.begin < furthest_end) {
            fail(path, "tensors {} (bytes [{}, {})) and {} (bytes [{}, {})) overlap",
                 quote_name(furthest->content.name), furthest->begin, furthest->end,
                 quote_name(entry.content.name), entry.begin, entry.end);
        }
        furthest_end = entry.end;
        furthest = &entry;
    }

    // Only now, with every range checked against the file size, read the data.
    std::vector<unsigned char> data(static_cast<std::size_t>(furthest_end));
    read_exactly(in, path, reinterpret_cast<char*>(data.data()), data.size());

    result.tensors.reserve(tensors.size());
    for (tensor_entry& entry : tensors) {
        tensor& loaded = entry.content;
        loaded.values.resize(
            static_cast<std::size_t>((entry.end - entry.begin) / dtype_size(loaded.type)));
        if (!loaded.values.empty()) {
            load_values(loaded, data.data() + entry.begin);
        }
        result.tensors.push_back(std::move(loaded));
    }
    return result;
}

void write_safetensors(const std::string& path, std::span<const tensor_view> tensors,
                       const std::map<std::string, std::string>& metadata) {
    refuse_directory_target(path);

    // Build the whole header first, so that bad arguments fail before any file is touched.
    json::object header;
    if (!metadata.empty()) {
        json::object metadata_object;
        for (const auto& [key, value] : metadata) {
            metadata_object[key] = value;
        }
        header["__metadata__"] = std::move(metadata_object);
    }
    std::vector<std::uint64_t> sizes;
    sizes.reserve(tensors.size());
    std::uint64_t offset = 0;
    for (const tensor_view& view : tensors) {
        if (view.name == "__metadata__" || header.contains(view.name)) {
            fail(path, "cannot write tensor {}: the name is {}", quote_name(view.name),
                 view.name == "__metadata__" ? "reserved" : "used twice");
        }
        const std::optional<std::uint64_t> bytes = byte_count(view.shape, view.type);
        if (!bytes) {
            fail(path, "cannot write tensor {}: shape {} overflows", quote_name(view.name),
                 shape_text(view.shape));
        }
        if (*bytes != 0 && view.data == nullptr) {
            fail(path, "cannot write tensor {}: no data", quote_name(view.name));
        }
        json::object entry;
        entry["dtype"] = dtype_name(view.type);
        entry["shape"] = json::array(view.shape.begin(), view.shape.end());
        entry["data_offsets"] = json::array{offset, offset + *bytes};
        header[view.name] = std::move(entry);
        sizes.push_back(*bytes);
        offset += *bytes;
    }
    std::string header_text = json::serialize(header);
    // Spaces are valid trailing JSON whitespace; they put the data start on an 8-byte boundary.
    header_text.append((length_prefix_bytes - header_text.size() % 8) % 8, ' ');

    unsigned char prefix[length_prefix_bytes];
    for (std::size_t i = 0; i < length_prefix_bytes; ++i) {
        prefix[i] =
            static_cast<unsigned char>(static_cast<std::uint64_t>(header_text.size()) >> (8 * i));
    }

    const std::string temporary = path + ".tmp";
    try {
        errno = 0;
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            fail(path, "cannot write: {}", explain_cannot_create(path, errno));
        }
        out.write(reinterpret_cast<const char*>(prefix), length_prefix_bytes);
        out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            out.write(static_cast<const char*>(tensors[i].data),
                      static_cast<std::streamsize>(sizes[i]));
        }
        out.close();
        if (!out) {
            fail(path, "cannot write '{}': {}", temporary, os_error_text(errno));
        }
        std::error_code error;
        fs::rename(temporary, path, error);
        if (error) {
            fail(path, "cannot rename '{}' to it: {}", temporary, error.message());
        }
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw;
    }
}

void check_writable(const std::string& path) {
    refuse_directory_target(path);
    const std::string temporary = path + ".tmp";
    errno = 0;
    std::ofstream probe(temporary, std::ios::binary | std::ios::trunc);
    if (!probe) {
        fail(path, "cannot write: {}", explain_cannot_create(path, errno));
    }
    probe.close();
    std::error_code ignored;
    fs::remove(temporary, ignored);
}

}  // namespace gflow::io
