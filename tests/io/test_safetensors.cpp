// gflow::io safetensors reader and writer: round trips, layout, and every malformed file the
// reader must refuse with a one-line gflow::input_error naming the file and the problem.
//
// Temporary files go to $GFLOW_TEST_TMPDIR (meson sets it to the build directory).

#define BOOST_TEST_MODULE io_safetensors
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gflow/io/error.hpp"
#include "gflow/io/safetensors.hpp"

namespace fs = std::filesystem;
namespace io = gflow::io;

namespace {

fs::path scratch_directory() {
    const char* configured = std::getenv("GFLOW_TEST_TMPDIR");
    const fs::path base = configured != nullptr ? fs::path(configured) : fs::temp_directory_path();
    const fs::path directory = base / "gflow-test-safetensors";
    fs::create_directories(directory);
    return directory;
}

std::string scratch_file(const std::string& name) {
    return (scratch_directory() / name).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_REQUIRE(out.good());
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string little_endian_u64(std::uint64_t value) {
    std::string bytes(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
    }
    return bytes;
}

std::uint64_t header_length_of(const std::string& file_bytes) {
    std::uint64_t length = 0;
    for (std::size_t i = 8; i-- > 0;) {
        length = (length << 8) | static_cast<unsigned char>(file_bytes[i]);
    }
    return length;
}

// A crafted file: the given header text, then `data_bytes` zero bytes.
std::string craft(const std::string& name, const std::string& header, std::size_t data_bytes) {
    const std::string path = scratch_file(name);
    write_bytes(path, little_endian_u64(header.size()) + header + std::string(data_bytes, '\0'));
    return path;
}

// read_safetensors(path) must throw input_error with a one-line message that names the file
// and contains every word in `words`.
void expect_rejected(const std::string& path, std::initializer_list<std::string> words) {
    const std::string file_name = fs::path(path).filename().string();
    try {
        io::read_safetensors(path);
        BOOST_ERROR("read_safetensors(" << file_name << ") did not throw");
    } catch (const gflow::input_error& error) {
        const std::string message = error.what();
        BOOST_TEST_MESSAGE(message);
        BOOST_TEST(message.find(file_name) != std::string::npos,
                   "message does not name " << file_name << ": " << message);
        BOOST_TEST(message.find('\n') == std::string::npos, "message is not one line: " << message);
        for (const std::string& word : words) {
            BOOST_TEST(message.find(word) != std::string::npos,
                       "message lacks '" << word << "': " << message);
        }
    }
}

template <class Write>
void expect_write_rejected(const std::string& path, Write write, const std::string& word) {
    try {
        write();
        BOOST_ERROR("writing " << path << " did not throw");
    } catch (const gflow::input_error& error) {
        const std::string message = error.what();
        BOOST_TEST_MESSAGE(message);
        BOOST_TEST(message.find(path) != std::string::npos,
                   "message does not name the path: " << message);
        BOOST_TEST(message.find(word) != std::string::npos,
                   "message lacks '" << word << "': " << message);
    }
}

template <class T>
bool bits_equal(T a, T b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// A valid two-tensor F32 file, for tests that damage it.
std::string write_valid_file(const std::string& name) {
    const std::string path = scratch_file(name);
    const std::vector<float> a{1, 2, 3, 4, 5, 6};
    const std::vector<float> b{7, 8, 9};
    const std::vector<io::tensor_view> views{{"a", {2, 3}, a.data(), io::dtype::f32},
                                             {"b", {3}, b.data(), io::dtype::f32}};
    io::write_safetensors(path, views, {{"kind", "test"}});
    return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE(f32_values_names_shapes_and_metadata) {
    const std::string path = scratch_file("round_trip_f32.safetensors");
    const std::vector<float> wte{0.0f,
                                 -0.0f,
                                 1.0f / 3.0f,
                                 -2.5f,
                                 std::numeric_limits<float>::max(),
                                 std::numeric_limits<float>::lowest(),
                                 std::numeric_limits<float>::denorm_min(),
                                 std::numeric_limits<float>::min(),
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::epsilon(),
                                 1e-30f};
    const std::vector<float> bias{0.5f, 0.25f, -0.125f, 3.0f, 1e30f};  // odd count: 20 bytes
    const float scalar = 42.0f;
    const std::vector<io::tensor_view> views{
        {"wte", {3, 4}, wte.data(), io::dtype::f32},
        {"layer0.bias", {5}, bias.data(), io::dtype::f32},
        {"scalar", {}, &scalar, io::dtype::f32},
        {"empty", {0, 3}, nullptr, io::dtype::f32},
    };
    const std::map<std::string, std::string> metadata{
        {"config", "{\"layers\": 1, \"width\": 16}"}, {"vocab", "abcé☃"}, {"empty", ""}};
    io::write_safetensors(path, views, metadata);
    BOOST_TEST(!fs::exists(path + ".tmp"));

    const io::safetensors_file file = io::read_safetensors(path);
    BOOST_TEST(file.metadata == metadata);
    BOOST_REQUIRE_EQUAL(file.tensors.size(), views.size());
    for (std::size_t i = 0; i < views.size(); ++i) {
        BOOST_TEST(file.tensors[i].name == views[i].name);
        BOOST_TEST(file.tensors[i].shape == views[i].shape, "shape of " << views[i].name);
        BOOST_TEST((file.tensors[i].type == io::dtype::f32));
    }
    const auto check_values = [](const io::tensor& loaded, const float* expected,
                                 std::size_t count) {
        BOOST_REQUIRE_EQUAL(loaded.values.size(), count);
        for (std::size_t i = 0; i < count; ++i) {
            BOOST_TEST(
                bits_equal(static_cast<float>(loaded.values[i]), expected[i]),
                loaded.name << "[" << i << "]: " << loaded.values[i] << " != " << expected[i]);
        }
    };
    check_values(file.tensors[0], wte.data(), wte.size());
    check_values(file.tensors[1], bias.data(), bias.size());
    check_values(file.tensors[2], &scalar, 1);
    BOOST_TEST(file.tensors[3].values.empty());

    BOOST_REQUIRE(file.find("layer0.bias") != nullptr);
    BOOST_TEST(file.find("layer0.bias")->values.size() == 5u);
    BOOST_TEST(file.find("absent") == nullptr);
}

BOOST_AUTO_TEST_CASE(f64_values_bit_identical) {
    const std::string path = scratch_file("round_trip_f64.safetensors");
    const std::vector<double> weights{0.0,
                                      -0.0,
                                      1.0 / 3.0,
                                      std::acos(-1.0),
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      1e-300};
    const std::vector<double> single{-7.25};
    const std::vector<io::tensor_view> views{{"W", {2, 5}, weights.data(), io::dtype::f64},
                                             {"b", {1}, single.data(), io::dtype::f64}};
    const std::map<std::string, std::string> metadata{{"step", "1200"}};
    io::write_safetensors(path, views, metadata);

    const io::safetensors_file file = io::read_safetensors(path);
    BOOST_TEST(file.metadata == metadata);
    BOOST_REQUIRE_EQUAL(file.tensors.size(), 2u);
    BOOST_TEST(file.tensors[0].name == "W");
    BOOST_TEST((file.tensors[0].type == io::dtype::f64));
    BOOST_TEST((file.tensors[0].shape == std::vector<std::size_t>{2, 5}));
    BOOST_REQUIRE_EQUAL(file.tensors[0].values.size(), weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
        BOOST_TEST(bits_equal(file.tensors[0].values[i], weights[i]), "W[" << i << "]");
    }
    BOOST_TEST(bits_equal(file.tensors[1].values.at(0), single[0]));
}

BOOST_AUTO_TEST_CASE(mixed_dtypes_and_no_metadata) {
    const std::string path = scratch_file("mixed.safetensors");
    const std::vector<float> a{1.5f, 2.5f, 3.5f};
    const std::vector<double> b{0.1, 0.2};
    const std::vector<io::tensor_view> views{{"a", {3}, a.data(), io::dtype::f32},
                                             {"b", {2}, b.data(), io::dtype::f64}};
    io::write_safetensors(path, views, {});
    const std::string bytes = read_bytes(path);
    BOOST_TEST(bytes.find("__metadata__") == std::string::npos);

    const io::safetensors_file file = io::read_safetensors(path);
    BOOST_TEST(file.metadata.empty());
    BOOST_REQUIRE_EQUAL(file.tensors.size(), 2u);
    BOOST_TEST((file.tensors[0].type == io::dtype::f32));
    BOOST_TEST((file.tensors[1].type == io::dtype::f64));
    BOOST_TEST(bits_equal(file.tensors[1].values.at(1), 0.2));
}

BOOST_AUTO_TEST_CASE(overwrites_an_existing_file) {
    const std::string path = scratch_file("overwrite.safetensors");
    const std::vector<double> first{1.0};
    const std::vector<double> second{2.0, 3.0};
    io::write_safetensors(
        path, std::vector<io::tensor_view>{{"x", {1}, first.data(), io::dtype::f64}}, {});
    io::write_safetensors(
        path, std::vector<io::tensor_view>{{"x", {2}, second.data(), io::dtype::f64}}, {});
    const io::safetensors_file file = io::read_safetensors(path);
    BOOST_TEST(file.tensors.at(0).values == second);
    BOOST_TEST(!fs::exists(path + ".tmp"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layout)

// For every header length mod 8, the data starts on an 8-byte boundary and the tensors are
// stored back to back (the reference safetensors library refuses gaps).
BOOST_AUTO_TEST_CASE(data_start_is_8_byte_aligned_and_tensors_contiguous) {
    const std::vector<float> odd{1, 2, 3};
    const std::vector<double> wide{4, 5};
    for (std::size_t extra = 0; extra < 8; ++extra) {
        const std::string path = scratch_file("aligned.safetensors");
        const std::vector<io::tensor_view> views{{"odd", {3}, odd.data(), io::dtype::f32},
                                                 {"wide", {2}, wide.data(), io::dtype::f64}};
        io::write_safetensors(path, views, {{"pad", std::string(extra, 'x')}});
        const std::string bytes = read_bytes(path);
        const std::uint64_t header_length = header_length_of(bytes);
        BOOST_TEST((8 + header_length) % 8 == 0u, "extra " << extra);
        BOOST_TEST(bytes.size() == 8 + header_length + 3 * sizeof(float) + 2 * sizeof(double));
        // Padding is trailing spaces after the JSON object.
        const std::string header = bytes.substr(8, header_length);
        BOOST_TEST(header.find_last_not_of(' ') == header.rfind('}'));
        BOOST_TEST(header.find("\"data_offsets\":[0,12]") != std::string::npos, header);
        BOOST_TEST(header.find("\"data_offsets\":[12,28]") != std::string::npos, header);
        // The first tensor's bytes are the first bytes after the header.
        float first = 0;
        std::memcpy(&first, bytes.data() + 8 + header_length, sizeof(float));
        BOOST_TEST(first == 1.0f);
    }
}

// Files from other tools: tensors listed out of offset order, gaps and trailing bytes are
// tolerated; tensors come back in the order of their offsets.
BOOST_AUTO_TEST_CASE(reads_tensors_in_offset_order) {
    const std::string header = R"({"second":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},)"
                               R"("first":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})";
    std::string data(32, '\0');
    const double one = 1.0;
    const double two = 2.0;
    std::memcpy(data.data(), &one, 8);
    std::memcpy(data.data() + 16, &two, 8);
    const std::string path = scratch_file("offset_order.safetensors");
    write_bytes(path, little_endian_u64(header.size()) + header + data);
    const io::safetensors_file file = io::read_safetensors(path);
    BOOST_REQUIRE_EQUAL(file.tensors.size(), 2u);
    BOOST_TEST(file.tensors[0].name == "first");
    BOOST_TEST(file.tensors[0].values.at(0) == 1.0);
    BOOST_TEST(file.tensors[1].name == "second");
    BOOST_TEST(file.tensors[1].values.at(0) == 2.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_files)

BOOST_AUTO_TEST_CASE(missing_file) {
    expect_rejected(scratch_file("does_not_exist.safetensors"), {"no such file"});
}

BOOST_AUTO_TEST_CASE(directory) {
    const std::string path = scratch_file("a_directory.safetensors");
    fs::create_directories(path);
    expect_rejected(path, {"directory"});
}

BOOST_AUTO_TEST_CASE(unreadable_file) {
    const std::string path = write_valid_file("unreadable.safetensors");
    fs::permissions(path, fs::perms::none);
    if (std::ifstream(path).is_open()) {
        // Running as root: permissions do not stop reads, so there is nothing to test.
        BOOST_TEST_MESSAGE("not checked: the file is readable despite mode 000 (root?)");
        BOOST_TEST(io::read_safetensors(path).tensors.size() == 2u);
    } else {
        expect_rejected(path, {"cannot open"});
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

BOOST_AUTO_TEST_CASE(shorter_than_8_bytes) {
    const std::string path = scratch_file("short.safetensors");
    write_bytes(path, std::string("\x10\x00\x00\x00\x00", 5));
    expect_rejected(path, {"too short"});
    write_bytes(path, "");
    expect_rejected(path, {"too short"});
}

BOOST_AUTO_TEST_CASE(header_length_beyond_the_file) {
    const std::string path = scratch_file("long_header.safetensors");
    write_bytes(path, little_endian_u64(1000) + "{}");
    expect_rejected(path, {"header length 1000", "past the end"});
    write_bytes(path, little_endian_u64(std::numeric_limits<std::uint64_t>::max()) + "{}");
    expect_rejected(path, {"header length", "past the end"});
}

BOOST_AUTO_TEST_CASE(header_over_100_megabytes) {
    // A sparse file, so the test does not write 100 MB.
    const std::string path = scratch_file("huge_header.safetensors");
    const std::uint64_t header_length = 100'000'001;
    write_bytes(path, little_endian_u64(header_length) + "{");
    fs::resize_file(path, 8 + header_length);
    expect_rejected(path, {"header length", "limit"});
    fs::remove(path);
}

BOOST_AUTO_TEST_CASE(header_not_json) {
    expect_rejected(craft("not_json.safetensors", "{\"a\": {\"dtype\": ", 0), {"not valid JSON"});
    expect_rejected(craft("empty_header.safetensors", "", 0), {"not valid JSON"});
    expect_rejected(craft("bad_utf8_header.safetensors", "{\"\xff\":{}}", 0), {"not valid JSON"});
    // A truncated file whose header was cut: the header length still fits, the JSON does not.
    const std::string bytes = read_bytes(write_valid_file("cut_header.safetensors"));
    const std::string path = scratch_file("cut_header.safetensors");
    write_bytes(path, little_endian_u64(20) + bytes.substr(8, 20));
    expect_rejected(path, {"not valid JSON"});
}

BOOST_AUTO_TEST_CASE(header_not_an_object) {
    expect_rejected(craft("array_header.safetensors", "[1, 2]", 0), {"not a JSON object"});
    expect_rejected(craft("string_header.safetensors", "\"x\"", 0), {"not a JSON object"});
}

BOOST_AUTO_TEST_CASE(tensor_entry_missing_a_field) {
    expect_rejected(craft("no_dtype.safetensors", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8),
                    {"'w'", "missing", "dtype"});
    expect_rejected(
        craft("no_shape.safetensors", R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8),
        {"'w'", "missing", "shape"});
    expect_rejected(craft("no_offsets.safetensors", R"({"w":{"dtype":"F32","shape":[2]}})", 8),
                    {"'w'", "missing", "data_offsets"});
}

BOOST_AUTO_TEST_CASE(tensor_entry_with_wrong_json_types) {
    expect_rejected(craft("entry_number.safetensors", R"({"w":3})", 0),
                    {"'w'", "not a JSON object"});
    expect_rejected(craft("dtype_number.safetensors",
                          R"({"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", 8),
                    {"'w'", "dtype", "not a string"});
    expect_rejected(craft("shape_string.safetensors",
                          R"({"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", 8),
                    {"'w'", "shape", "not an array"});
    expect_rejected(craft("shape_negative.safetensors",
                          R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                    {"'w'", "shape", "-2"});
    expect_rejected(craft("shape_float.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
                    {"'w'", "shape", "non-negative integer"});
    expect_rejected(craft("shape_nested.safetensors",
                          R"({"w":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8),
                    {"'w'", "shape"});
    expect_rejected(craft("offsets_one.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
                    {"'w'", "data_offsets"});
    expect_rejected(craft("offsets_three.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8),
                    {"'w'", "data_offsets"});
    expect_rejected(craft("offsets_string.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}})", 8),
                    {"'w'", "data_offsets"});
    expect_rejected(craft("offsets_negative.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
                    {"'w'", "data_offsets"});
}

BOOST_AUTO_TEST_CASE(unsupported_dtype) {
    expect_rejected(
        craft("bf16.safetensors", R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4),
        {"'w'", "BF16", "not supported"});
    expect_rejected(
        craft("i64.safetensors", R"({"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8),
        {"I64"});
    expect_rejected(craft("lower_f32.safetensors",
                          R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4),
                    {"f32"});
}

BOOST_AUTO_TEST_CASE(shape_product_overflow) {
    expect_rejected(
        craft("overflow.safetensors",
              R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8]}})", 8),
        {"'w'", "overflow"});
    // The element count fits in 64 bits, the byte count does not.
    expect_rejected(
        craft("overflow_bytes.safetensors",
              R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
        {"'w'", "overflow"});
    // 2^64 - 1 as a single extent is parsed as uint64 and must still be caught.
    expect_rejected(
        craft("overflow_u64.safetensors",
              R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}})", 8),
        {"'w'", "overflow"});
}

BOOST_AUTO_TEST_CASE(offsets_end_before_begin) {
    expect_rejected(craft("reversed.safetensors",
                          R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
                    {"'w'", "data_offsets [8, 0]", "end before"});
}

BOOST_AUTO_TEST_CASE(offsets_do_not_match_shape_and_dtype) {
    expect_rejected(craft("mismatch.safetensors",
                          R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 24),
                    {"'w'", "16 bytes", "need 24"});
    // Same byte count but F64 instead of F32.
    expect_rejected(craft("mismatch_dtype.safetensors",
                          R"({"w":{"dtype":"F64","shape":[4],"data_offsets":[0,16]}})", 32),
                    {"'w'", "F64", "need 32"});
}

BOOST_AUTO_TEST_CASE(offsets_past_the_end_of_the_file) {
    expect_rejected(craft("past_end.safetensors",
                          R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12),
                    {"'w'", "past the end"});
    // Huge offsets that would overflow begin + size if the reader added them.
    expect_rejected(
        craft(
            "past_end_huge.safetensors",
            R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551608,18446744073709551612]}})",
            4),
        {"'w'", "past the end"});
    // A valid file truncated by a few bytes.
    const std::string bytes = read_bytes(write_valid_file("truncated.safetensors"));
    const std::string path = scratch_file("truncated.safetensors");
    write_bytes(path, bytes.substr(0, bytes.size() - 3));
    expect_rejected(path, {"'b'", "past the end"});
}

BOOST_AUTO_TEST_CASE(overlapping_tensors) {
    expect_rejected(craft("overlap.safetensors",
                          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                          R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                          24),
                    {"'a'", "'b'", "overlap"});
    // 'big' covers both others; 'c' starts after 'b' ends but still inside 'big'.
    expect_rejected(craft("overlap_nested.safetensors",
                          R"({"big":{"dtype":"F64","shape":[4],"data_offsets":[0,32]},)"
                          R"("b":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
                          R"("c":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}})",
                          32),
                    {"'big'", "overlap"});
    // Identical ranges.
    expect_rejected(craft("overlap_same.safetensors",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                          8),
                    {"overlap"});
}

BOOST_AUTO_TEST_CASE(empty_tensor_overlaps_nothing) {
    const std::string path = craft("empty_inside.safetensors",
                                   R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                   R"("e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})",
                                   16);
    BOOST_TEST(io::read_safetensors(path).tensors.size() == 2u);
}

BOOST_AUTO_TEST_CASE(metadata_not_strings) {
    expect_rejected(craft("metadata_number.safetensors", R"({"__metadata__":{"step":12}})", 0),
                    {"metadata", "'step'", "not a string"});
    expect_rejected(
        craft("metadata_nested.safetensors", R"({"__metadata__":{"cfg":{"a":"b"}}})", 0),
        {"metadata", "'cfg'", "not a string"});
    expect_rejected(craft("metadata_array.safetensors", R"({"__metadata__":["a"]})", 0),
                    {"__metadata__", "not a JSON object"});
}

BOOST_AUTO_TEST_CASE(control_characters_in_names_stay_on_one_line) {
    expect_rejected(craft("newline_name.safetensors",
                          R"({"a\nb":{"dtype":"X","shape":[],"data_offsets":[0,0]}})", 0),
                    {"'a\\x0ab'"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(writing)

BOOST_AUTO_TEST_CASE(nonexistent_directory_leaves_no_file) {
    const std::string path = scratch_file("no/such/dir/out.safetensors");
    const std::vector<double> values{1.0};
    const std::vector<io::tensor_view> views{{"x", {1}, values.data(), io::dtype::f64}};
    expect_write_rejected(
        path, [&] { io::write_safetensors(path, views, {}); }, "does not exist");
    BOOST_TEST(!fs::exists(path));
    BOOST_TEST(!fs::exists(path + ".tmp"));
    expect_write_rejected(
        path, [&] { io::check_writable(path); }, "does not exist");
}

BOOST_AUTO_TEST_CASE(target_is_a_directory) {
    // Refused up front: rename could not replace a non-empty directory anyway.
    const std::string path = scratch_file("target_is_dir.safetensors");
    fs::create_directories(fs::path(path) / "inside");
    const std::vector<double> values{1.0};
    const std::vector<io::tensor_view> views{{"x", {1}, values.data(), io::dtype::f64}};
    expect_write_rejected(
        path, [&] { io::write_safetensors(path, views, {}); }, "directory");
    BOOST_TEST(!fs::exists(path + ".tmp"));
    BOOST_TEST(fs::is_directory(path));
    expect_write_rejected(
        path, [&] { io::check_writable(path); }, "directory");
}

BOOST_AUTO_TEST_CASE(parent_is_a_file) {
    const std::string parent = write_valid_file("plain_file.safetensors");
    const std::string path = parent + "/child.safetensors";
    expect_write_rejected(
        path, [&] { io::check_writable(path); }, "not a directory");
}

BOOST_AUTO_TEST_CASE(bad_tensor_lists_write_nothing) {
    const std::string path = scratch_file("bad_list.safetensors");
    const std::vector<float> values{1.0f, 2.0f};
    const std::vector<io::tensor_view> twice{{"x", {2}, values.data(), io::dtype::f32},
                                             {"x", {2}, values.data(), io::dtype::f32}};
    expect_write_rejected(
        path, [&] { io::write_safetensors(path, twice, {}); }, "twice");
    const std::vector<io::tensor_view> reserved{
        {"__metadata__", {2}, values.data(), io::dtype::f32}};
    expect_write_rejected(
        path, [&] { io::write_safetensors(path, reserved, {}); }, "reserved");
    const std::vector<io::tensor_view> no_data{{"x", {2}, nullptr, io::dtype::f32}};
    expect_write_rejected(
        path, [&] { io::write_safetensors(path, no_data, {}); }, "no data");
    BOOST_TEST(!fs::exists(path));
    BOOST_TEST(!fs::exists(path + ".tmp"));
}

BOOST_AUTO_TEST_CASE(check_writable_accepts_a_good_path_and_leaves_nothing) {
    const std::string path = scratch_file("writable.safetensors");
    fs::remove(path);
    io::check_writable(path);
    BOOST_TEST(!fs::exists(path));
    BOOST_TEST(!fs::exists(path + ".tmp"));
}

// A bare file name has an empty parent_path(); it means the current directory.
BOOST_AUTO_TEST_CASE(relative_path_in_current_directory) {
    struct restore_directory {
        fs::path previous = fs::current_path();
        ~restore_directory() {
            fs::current_path(previous);
        }
    } restore;
    fs::current_path(scratch_directory());
    const std::vector<double> values{3.0};
    io::check_writable("relative.safetensors");
    io::write_safetensors("relative.safetensors",
                          std::vector<io::tensor_view>{{"x", {1}, values.data(), io::dtype::f64}},
                          {});
    BOOST_TEST(io::read_safetensors("relative.safetensors").tensors.at(0).values == values);
}

BOOST_AUTO_TEST_SUITE_END()
