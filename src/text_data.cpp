#include "gflow/io/text_data.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace gflow::io {

namespace {

namespace fs = std::filesystem;

constexpr char32_t max_code_point = 0x10FFFF;
constexpr char32_t replacement_character = 0xFFFD;
constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> format,
                       Args&&... args) {
    throw input_error(
        fmt::format("{}: {}", source, fmt::format(format, std::forward<Args>(args)...)));
}

bool is_surrogate(char32_t c) {
    return c >= 0xD800 && c <= 0xDFFF;
}

void append_utf8(std::string& out, char32_t c) {
    if (is_surrogate(c) || c > max_code_point) {
        c = replacement_character;
    }
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// Where and why a byte string is not UTF-8.
struct utf8_problem {
    std::size_t offset;  // 0-based, of the byte that starts the bad sequence
    unsigned char byte;  // the byte at `offset`
    std::string reason;
};

// Appends the code points of `bytes` to `out`. Strict (RFC 3629): overlong forms, surrogates
// and values above U+10FFFF are refused, so every string has exactly one decoding.
std::optional<utf8_problem> decode_utf8_into(std::string_view bytes, std::u32string& out) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<unsigned char>(bytes[i]);
        if (lead < 0x80) {
            out += static_cast<char32_t>(lead);
            ++i;
            continue;
        }
        std::size_t length = 0;
        char32_t code_point = 0;
        char32_t smallest = 0;  // below this, the sequence is an overlong encoding
        if (lead < 0xC0) {
            return utf8_problem{i, lead, "a continuation byte where a character should start"};
        } else if (lead < 0xE0) {
            length = 2;
            code_point = lead & 0x1F;
            smallest = 0x80;
        } else if (lead < 0xF0) {
            length = 3;
            code_point = lead & 0x0F;
            smallest = 0x800;
        } else if (lead < 0xF8) {
            length = 4;
            code_point = lead & 0x07;
            smallest = 0x10000;
        } else {
            return utf8_problem{i, lead, "never appears in UTF-8"};
        }
        for (std::size_t k = 1; k < length; ++k) {
            if (i + k >= bytes.size()) {
                return utf8_problem{
                    i, lead,
                    fmt::format("truncated sequence: it ends after {} of its {} bytes", k, length)};
            }
            const auto next = static_cast<unsigned char>(bytes[i + k]);
            if ((next & 0xC0) != 0x80) {
                return utf8_problem{
                    i, lead,
                    fmt::format(
                        "truncated sequence: byte 0x{:02x} after it is not a continuation byte",
                        next)};
            }
            code_point = (code_point << 6) | (next & 0x3F);
        }
        if (code_point < smallest) {
            return utf8_problem{i, lead,
                                fmt::format("overlong encoding of U+{:04X}",
                                            static_cast<std::uint32_t>(code_point))};
        }
        if (is_surrogate(code_point)) {
            return utf8_problem{i, lead,
                                fmt::format("encodes the UTF-16 surrogate U+{:04X}",
                                            static_cast<std::uint32_t>(code_point))};
        }
        if (code_point > max_code_point) {
            return utf8_problem{i, lead, "encodes a value above U+10FFFF"};
        }
        out += code_point;
        i += length;
    }
    return std::nullopt;
}

// Turns lines into documents with the rules shared by files and in-memory lines.
class document_builder {
public:
    explicit document_builder(std::string source) {
        result_.source = std::move(source);
    }

    // `line_number` is 1-based; `line` may end in CR (from a CRLF ending).
    void add_line(std::string_view line, std::size_t line_number) {
        std::size_t column_offset = 0;  // bytes dropped from the front, for column numbers
        if (line_number == 1 && line.starts_with(byte_order_mark)) {
            line.remove_prefix(byte_order_mark.size());
            column_offset = byte_order_mark.size();
        }
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        // Spaces and tabs are single bytes that never occur inside a multi-byte UTF-8
        // character, so stripping them before decoding is safe.
        const std::size_t first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos) {
            return;  // blank line
        }
        const std::size_t last = line.find_last_not_of(" \t");
        std::u32string document;
        if (const auto problem = decode_utf8_into(line.substr(first, last - first + 1), document)) {
            fail(fmt::format("{}:{}", result_.source, line_number),
                 "invalid UTF-8 byte 0x{:02x} at column {} ({})", problem->byte,
                 column_offset + first + problem->offset + 1, problem->reason);
        }
        result_.documents.push_back(std::move(document));
    }

    document_set finish() && {
        if (result_.documents.empty()) {
            fail(result_.source, "has only blank lines, no documents");
        }
        return std::move(result_);
    }

private:
    document_set result_;
};

std::string os_error_text(int error_number) {
    return error_number != 0 ? std::generic_category().message(error_number) : "unknown error";
}

std::string read_text_file(const std::string& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (status.type() == fs::file_type::not_found) {
        fail(path, "no such file");
    }
    if (error) {
        fail(path, "cannot access: {}", error.message());
    }
    if (status.type() == fs::file_type::directory) {
        fail(path, "is a directory, not a text file with one document per line");
    }
    if (status.type() != fs::file_type::regular) {
        fail(path, "is not a regular file");
    }
    const std::uintmax_t size = fs::file_size(path, error);
    if (error) {
        fail(path, "cannot determine the file size: {}", error.message());
    }
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(path, "cannot open for reading: {}", os_error_text(errno));
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != size) {
        fail(path, "read error after {} of {} bytes", in.gcount(), size);
    }
    return text;
}

// A character for a message: itself when printable, and always its code point. Control
// characters and line separators are shown by code point only, to keep messages on one line.
std::string describe_character(char32_t c) {
    const auto code = static_cast<std::uint32_t>(c);
    if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0x2028 || c == 0x2029) {
        return fmt::format("U+{:04X}", code);
    }
    std::string printable;
    append_utf8(printable, c);
    return fmt::format("'{}' (U+{:04X})", printable, code);
}

// A symbol that occurs more than once, if any. Sorting a copy keeps this O(n log n) even for
// a hostile vocabulary string read from a checkpoint.
std::optional<char32_t> first_repeated(std::vector<char32_t> symbols) {
    std::sort(symbols.begin(), symbols.end());
    const auto repeated = std::adjacent_find(symbols.begin(), symbols.end());
    return repeated == symbols.end() ? std::nullopt : std::optional<char32_t>(*repeated);
}

}  // namespace

document_set read_documents(const std::string& path) {
    const std::string text = read_text_file(path);
    if (text.empty()) {
        fail(path, "file is empty");
    }
    document_builder builder(path);
    const std::string_view file_text = text;
    std::size_t line_start = 0;
    std::size_t line_number = 1;
    while (line_start <= file_text.size()) {
        std::size_t line_end = file_text.find('\n', line_start);
        if (line_end == std::string_view::npos) {
            line_end = file_text.size();
        }
        builder.add_line(file_text.substr(line_start, line_end - line_start), line_number);
        line_start = line_end + 1;
        ++line_number;
    }
    return std::move(builder).finish();
}

document_set documents_from_lines(std::string source, std::span<const std::string> lines) {
    if (lines.empty()) {
        fail(source, "is empty");
    }
    document_builder builder(std::move(source));
    for (std::size_t i = 0; i < lines.size(); ++i) {
        builder.add_line(lines[i], i + 1);
    }
    return std::move(builder).finish();
}

vocabulary vocabulary::from_documents(const document_set& documents) {
    // A bit per code point finds new symbols in O(1); only the few distinct ones get sorted.
    std::vector<bool> seen(static_cast<std::size_t>(max_code_point) + 1, false);
    vocabulary result;
    for (const std::u32string& document : documents.documents) {
        for (const char32_t c : document) {
            if (c <= max_code_point && !seen[c]) {
                seen[c] = true;
                result.symbols_.push_back(c);
            }
        }
    }
    std::sort(result.symbols_.begin(), result.symbols_.end());
    return result;
}

vocabulary vocabulary::from_symbols(std::vector<char32_t> symbols) {
    for (const char32_t c : symbols) {
        if (is_surrogate(c) || c > max_code_point) {
            throw std::invalid_argument(
                fmt::format("vocabulary::from_symbols: U+{:04X} is not a Unicode scalar value",
                            static_cast<std::uint32_t>(c)));
        }
    }
    if (const auto repeated = first_repeated(symbols)) {
        throw std::invalid_argument(
            fmt::format("vocabulary::from_symbols: U+{:04X} is listed twice",
                        static_cast<std::uint32_t>(*repeated)));
    }
    vocabulary result;
    result.symbols_ = std::move(symbols);
    return result;
}

int vocabulary::size() const {
    return static_cast<int>(symbols_.size());
}

int vocabulary::bos() const {
    return size();
}

int vocabulary::token_of(char32_t c) const {
    const auto found = std::find(symbols_.begin(), symbols_.end(), c);
    return found == symbols_.end() ? -1 : static_cast<int>(found - symbols_.begin());
}

char32_t vocabulary::symbol(int token) const {
    if (token < 0 || token >= size()) {
        throw std::out_of_range(fmt::format(
            "vocabulary::symbol: token {} is not a symbol (there are {})", token, size()));
    }
    return symbols_[static_cast<std::size_t>(token)];
}

std::string vocabulary::to_utf8() const {
    return io::to_utf8(std::u32string_view(symbols_.data(), symbols_.size()));
}

vocabulary vocabulary::from_utf8(const std::string& text, const std::string& source) {
    std::u32string symbols;
    if (const auto problem = decode_utf8_into(text, symbols)) {
        fail(source, "vocabulary has invalid UTF-8 byte 0x{:02x} at byte {} ({})", problem->byte,
             problem->offset + 1, problem->reason);
    }
    vocabulary result;
    result.symbols_.assign(symbols.begin(), symbols.end());
    if (const auto repeated = first_repeated(result.symbols_)) {
        fail(source, "vocabulary lists {} twice", describe_character(*repeated));
    }
    return result;
}

std::vector<int> encode(const vocabulary& vocab, std::u32string_view doc, std::string_view source,
                        std::size_t doc_index) {
    std::vector<int> tokens;
    tokens.reserve(doc.size() + 2);
    tokens.push_back(vocab.bos());
    for (const char32_t c : doc) {
        const int token = vocab.token_of(c);
        if (token < 0) {
            fail(source, "document {}: character {} is not in the vocabulary", doc_index + 1,
                 describe_character(c));
        }
        tokens.push_back(token);
    }
    tokens.push_back(vocab.bos());
    return tokens;
}

std::string decode_utf8(const vocabulary& vocab, std::span<const int> tokens) {
    std::string text;
    for (const int token : tokens) {
        if (token != vocab.bos()) {
            append_utf8(text, vocab.symbol(token));
        }
    }
    return text;
}

std::string to_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char32_t c : text) {
        append_utf8(out, c);
    }
    return out;
}

}  // namespace gflow::io
