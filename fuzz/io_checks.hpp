#pragma once
// The properties the fuzz targets check, shared with tests/io/test_fuzz_regressions.cpp so that
// every input that once broke them is re-checked by the normal test suite (with any compiler).
//
// Each check takes the raw bytes of one input and a scratch file path to write them to. Bad
// input must end in gflow::input_error with a one-line message; good input must round-trip.
// A broken property throws gflow::fuzz::check_failure; any other exception (std::out_of_range,
// std::bad_alloc, ...) is a bug too and is left to propagate.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gflow/io/error.hpp"
#include "gflow/io/safetensors.hpp"
#include "gflow/io/text_data.hpp"

namespace gflow::fuzz {

struct check_failure : std::logic_error {
    using std::logic_error::logic_error;
};

inline void require(bool condition, const std::string& what) {
    if (!condition) {
        throw check_failure(what);
    }
}

// Removes `path` first: on ext4, truncating or renaming over a file that holds data starts a
// write-back on close (auto_da_alloc), which made every fuzzing run wait for the disk.
inline void remove_file(const std::string& path) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
}

inline void write_file(const std::string& path, std::string_view bytes) {
    remove_file(path);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        // The harness's own failure, not the code under test's: stop loudly.
        throw std::runtime_error("fuzz harness: cannot write scratch file " + path);
    }
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every input_error message is one line and names its input.
inline void check_message(const gflow::input_error& error, std::string_view source) {
    const std::string_view message = error.what();
    require(message.find('\n') == std::string_view::npos,
            "input_error message is not one line: " + std::string(message));
    require(message.starts_with(source),
            "input_error message does not start with the input's name '" + std::string(source) +
                "': " + std::string(message));
}

// ---------------------------------------------------------------------------------------------
// Text data: the bytes as a file's content.

inline void check_vocabulary_round_trip(const io::vocabulary& vocab) {
    const std::string text = vocab.to_utf8();
    const io::vocabulary again = io::vocabulary::from_utf8(text, "vocabulary");
    require(again == vocab, "vocabulary::from_utf8(to_utf8()) differs from the vocabulary");
}

inline void check_text_data(std::string_view bytes, const std::string& scratch_path) {
    write_file(scratch_path, bytes);

    // 1. The file path: BOM, CRLF, blank lines, stripping, UTF-8 decoding.
    std::optional<io::document_set> from_file;
    std::string file_error;
    try {
        from_file = io::read_documents(scratch_path);
    } catch (const gflow::input_error& error) {
        check_message(error, scratch_path);
        file_error = error.what();
    }

    // 2. The same bytes as lines in memory, split on '\n' exactly as a file is.
    std::vector<std::string> lines;
    for (std::size_t start = 0; start <= bytes.size();) {
        std::size_t end = bytes.find('\n', start);
        if (end == std::string_view::npos) {
            end = bytes.size();
        }
        lines.emplace_back(bytes.substr(start, end - start));
        start = end + 1;
    }
    std::optional<io::document_set> from_lines;
    std::string lines_error;
    try {
        from_lines = io::documents_from_lines(scratch_path, lines);
    } catch (const gflow::input_error& error) {
        check_message(error, scratch_path);
        lines_error = error.what();
    }

    require(from_file.has_value() == from_lines.has_value(),
            "read_documents and documents_from_lines disagree on whether the input is valid: '" +
                file_error + "' vs '" + lines_error + "'");
    if (!from_file) {
        // An empty file is "empty"; as lines it is one blank line. Otherwise the same message.
        require(bytes.empty() || file_error == lines_error,
                "read_documents and documents_from_lines give different messages: '" +
                    file_error + "' vs '" + lines_error + "'");
        // The same bytes as a vocabulary string (checkpoint metadata): refused or exact.
        try {
            const io::vocabulary vocab = io::vocabulary::from_utf8(std::string(bytes), "fuzz");
            require(vocab.to_utf8() == bytes, "vocabulary::from_utf8 is not exact");
        } catch (const gflow::input_error& error) {
            check_message(error, "fuzz");
        }
        return;
    }
    require(from_file->documents == from_lines->documents,
            "read_documents and documents_from_lines give different documents");
    require(from_file->source == scratch_path, "document_set::source is not the path");
    require(!from_file->documents.empty(), "a valid document set holds no documents");

    // 3. Every document: non-empty, one line, stripped, and its UTF-8 is in the input.
    for (const std::u32string& doc : from_file->documents) {
        require(!doc.empty(), "an empty document");
        require(doc.find(U'\n') == std::u32string::npos, "a document holds a newline");
        require(doc.front() != U' ' && doc.front() != U'\t' && doc.back() != U' ' &&
                    doc.back() != U'\t',
                "a document starts or ends with a space or tab");
        for (const char32_t c : doc) {
            require(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF),
                    "a document holds a code point that is not a Unicode scalar value");
        }
        const std::string utf8 = io::to_utf8(doc);
        require(bytes.find(utf8) != std::string_view::npos,
                "a document's UTF-8 does not occur in the input");
        // Decoding the encoder's output gives the document back. It goes on line 2 with a CRLF
        // ending, so that neither a leading U+FEFF nor a trailing CR of the document is eaten.
        const std::vector<std::string> two_lines{"x", utf8 + "\r"};
        const io::document_set again = io::documents_from_lines("again", two_lines);
        require(again.documents.size() == 2 && again.documents[1] == doc,
                "decoding to_utf8(document) does not give the document back");
    }

    // 4. The vocabulary: sorted, distinct, and holds every character.
    const io::vocabulary vocab = io::vocabulary::from_documents(*from_file);
    require(vocab.size() > 0 && vocab.bos() == vocab.size(), "vocabulary size or BOS is wrong");
    for (int token = 1; token < vocab.size(); ++token) {
        require(vocab.symbol(token - 1) < vocab.symbol(token),
                "vocabulary symbols are not sorted and distinct");
    }
    check_vocabulary_round_trip(vocab);

    // 5. encode / decode_utf8 round trip of every document.
    for (std::size_t i = 0; i < from_file->documents.size(); ++i) {
        const std::u32string& doc = from_file->documents[i];
        const std::vector<int> tokens = io::encode(vocab, doc, from_file->source, i);
        require(tokens.size() == doc.size() + 2, "encode: wrong number of tokens");
        require(tokens.front() == vocab.bos() && tokens.back() == vocab.bos(),
                "encode: the sequence is not framed by BOS");
        for (std::size_t k = 0; k < doc.size(); ++k) {
            const int token = tokens[k + 1];
            require(token >= 0 && token < vocab.size() && vocab.symbol(token) == doc[k],
                    "encode: a token is not its character's");
        }
        require(io::decode_utf8(vocab, tokens) == io::to_utf8(doc),
                "decode_utf8(encode(document)) is not the document");
    }

    // 6. A character missing from the vocabulary is an input_error naming the document.
    std::vector<char32_t> fewer;
    for (int token = 1; token < vocab.size(); ++token) {
        fewer.push_back(vocab.symbol(token));
    }
    const io::vocabulary smaller = io::vocabulary::from_symbols(fewer);
    const char32_t missing = vocab.symbol(0);
    for (std::size_t i = 0; i < from_file->documents.size(); ++i) {
        const std::u32string& doc = from_file->documents[i];
        if (doc.find(missing) == std::u32string::npos) {
            continue;
        }
        try {
            (void)io::encode(smaller, doc, from_file->source, i);
            require(false, "encode accepted a character that is not in the vocabulary");
        } catch (const gflow::input_error& error) {
            check_message(error, from_file->source);
        }
        break;
    }
}

// ---------------------------------------------------------------------------------------------
// Safetensors: the bytes as a checkpoint file.

// Element count of a shape; the reader has already refused shapes whose byte size overflows.
inline std::size_t element_count(const std::vector<std::size_t>& shape) {
    std::size_t count = 1;
    for (const std::size_t extent : shape) {
        count *= extent;
    }
    return count;
}

// Writes `file` back to `path` with write_safetensors (values in their stored dtype).
inline void write_back(const std::string& path, const io::safetensors_file& file) {
    std::vector<std::vector<float>> f32_storage;
    f32_storage.reserve(file.tensors.size());
    std::vector<io::tensor_view> views;
    for (const io::tensor& t : file.tensors) {
        const void* data = t.values.data();
        if (t.type == io::dtype::f32) {
            // Exact: the values were read as F32 and widened.
            f32_storage.emplace_back(t.values.begin(), t.values.end());
            data = f32_storage.back().data();
        }
        views.push_back(io::tensor_view{t.name, t.shape, data, t.type});
    }
    remove_file(path);
    try {
        io::write_safetensors(path, views, file.metadata);
    } catch (const gflow::input_error& error) {
        throw check_failure(std::string("write_safetensors refused what read_safetensors read: ") +
                            error.what());
    }
}

inline void check_same_content(const io::safetensors_file& a, const io::safetensors_file& b) {
    require(a.metadata == b.metadata, "metadata differs after a write and read");
    require(a.tensors.size() == b.tensors.size(), "tensor count differs after a write and read");
    for (const io::tensor& t : a.tensors) {
        // Compared by name: tensors come back in offset order, and empty tensors that sat at
        // different offsets all land on one offset when written back.
        const io::tensor* other = b.find(t.name);
        require(other != nullptr, "a tensor is missing after a write and read");
        require(other->type == t.type, "a tensor's dtype differs after a write and read");
        require(other->shape == t.shape, "a tensor's shape differs after a write and read");
        require(other->values.size() == t.values.size() &&
                    (t.values.empty() ||
                     std::memcmp(other->values.data(), t.values.data(),
                                 t.values.size() * sizeof(double)) == 0),
                "a tensor's values differ after a write and read");
    }
}

inline void check_safetensors(std::string_view bytes, const std::string& scratch_path) {
    write_file(scratch_path, bytes);
    io::safetensors_file first;
    try {
        first = io::read_safetensors(scratch_path);
    } catch (const gflow::input_error& error) {
        check_message(error, scratch_path);
        return;
    }

    // What was read is consistent with itself.
    for (std::size_t i = 0; i < first.tensors.size(); ++i) {
        const io::tensor& t = first.tensors[i];
        require(t.name != "__metadata__", "a tensor is named __metadata__");
        require(t.values.size() == element_count(t.shape),
                "a tensor's value count is not the product of its shape");
        require(first.find(t.name) == &t, "a tensor name is repeated or find() misses it");
        // Each tensor's stored bytes come from the file.
        require(t.values.size() * io::dtype_size(t.type) <= bytes.size(),
                "a tensor holds more bytes than the file");
    }

    // Written back and read again, it is the same; writing that again gives the same bytes.
    const std::string copy_path = scratch_path + ".copy";
    write_back(copy_path, first);
    io::safetensors_file second;
    try {
        second = io::read_safetensors(copy_path);
    } catch (const gflow::input_error& error) {
        throw check_failure(std::string("read_safetensors refused what write_safetensors wrote: ") +
                            error.what());
    }
    check_same_content(first, second);
    const std::string written = read_file(copy_path);
    // The writer's layout: an 8-byte length, a header padded so that the data is 8-byte aligned.
    require(written.size() >= 8, "the written file is shorter than its length prefix");
    std::uint64_t header_bytes = 0;
    for (std::size_t i = 8; i-- > 0;) {
        header_bytes = (header_bytes << 8) | static_cast<unsigned char>(written[i]);
    }
    require(header_bytes % 8 == 0 && header_bytes <= written.size() - 8,
            "the written header is not padded to 8 bytes or runs past the file");

    const std::string again_path = scratch_path + ".again";
    write_back(again_path, second);
    require(read_file(again_path) == written, "writing the same content twice gives different files");
    remove_file(copy_path);
    remove_file(again_path);
}

}  // namespace gflow::fuzz
