#pragma once
// A character-level corpus: one document per line of a UTF-8 text file, where a character is
// one Unicode code point (a multi-byte UTF-8 character is one token, not several bytes).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gflow/io/error.hpp"

namespace gflow::io {

struct document_set {
    std::string source;                     // the path, for messages
    std::vector<std::u32string> documents;  // one per non-blank line, in file order
};

// One document per non-blank line. Line endings may be LF or CRLF; a UTF-8 byte order mark at
// the start of the file is skipped; leading and trailing spaces and tabs are stripped.
// Throws gflow::input_error when the file is missing, unreadable, a directory, empty, holds
// only blank lines, or is not valid UTF-8 (the message gives file:line: and the byte and
// its 1-based byte column in that line).
document_set read_documents(const std::string& path);

// The same rules for lines already in memory (generated data, tests); `source` names them in
// messages and line numbers count from 1.
document_set documents_from_lines(std::string source, std::span<const std::string> lines);

// The symbols of a corpus, then one more token, BOS (beginning/end of sequence) == size().
class vocabulary {
public:
    vocabulary() = default;
    // The distinct code points of the documents, sorted.
    static vocabulary from_documents(const document_set& documents);
    // The given symbols in the given order (no sorting), e.g. '(' and ')'.
    // Throws std::invalid_argument on a repeated symbol.
    static vocabulary from_symbols(std::vector<char32_t> symbols);

    int size() const;                  // number of symbols, BOS excluded
    int bos() const;                   // == size()
    int token_of(char32_t c) const;    // -1 if absent
    char32_t symbol(int token) const;  // throws std::out_of_range unless 0 <= token < size()

    // All symbols concatenated as UTF-8 (stored in checkpoint metadata).
    std::string to_utf8() const;
    // The inverse of to_utf8; throws gflow::input_error naming `source` on invalid UTF-8 or a
    // repeated symbol.
    static vocabulary from_utf8(const std::string& text, const std::string& source);

    bool operator==(const vocabulary&) const = default;

private:
    std::vector<char32_t> symbols_;
};

// [BOS, tokens..., BOS]. `doc_index` is the 0-based index of `doc` in its document_set; the
// message for a character that is not in the vocabulary says "source: document N" with N 1-based,
// and shows the character as UTF-8 and as U+XXXX.
std::vector<int> encode(const vocabulary& vocab, std::u32string_view doc, std::string_view source,
                        std::size_t doc_index);

// The symbols of `tokens` as UTF-8, skipping BOS tokens. Throws std::out_of_range on a token
// outside [0, bos()].
std::string decode_utf8(const vocabulary& vocab, std::span<const int> tokens);

// UTF-8 encoding of code points; a surrogate or a value above U+10FFFF becomes U+FFFD.
std::string to_utf8(std::u32string_view text);

}  // namespace gflow::io
