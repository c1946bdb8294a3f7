// gflow::io text data: documents one per line, one token per Unicode code point, and one-line
// gflow::input_error messages for every bad file.
//
// Temporary files go to $GFLOW_TEST_TMPDIR (meson sets it to the build directory).
// Optional argument (after "--"): the path of names.txt, to check the real corpus.

#define BOOST_TEST_MODULE io_text_data
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "gflow/io/error.hpp"
#include "gflow/io/text_data.hpp"

namespace fs = std::filesystem;
namespace io = gflow::io;

namespace {

fs::path scratch_directory() {
    const char* configured = std::getenv("GFLOW_TEST_TMPDIR");
    const fs::path base = configured != nullptr ? fs::path(configured) : fs::temp_directory_path();
    const fs::path directory = base / "gflow-test-text-data";
    fs::create_directories(directory);
    return directory;
}

std::string write_text(const std::string& name, const std::string& bytes) {
    const std::string path = (scratch_directory() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_REQUIRE(out.good());
    return path;
}

// `action` must throw input_error with a one-line message containing every word.
template <class Action>
void expect_input_error(Action action, std::initializer_list<std::string> words) {
    try {
        action();
        BOOST_ERROR("no input_error thrown");
    } catch (const gflow::input_error& error) {
        const std::string message = error.what();
        BOOST_TEST_MESSAGE(message);
        BOOST_TEST(message.find('\n') == std::string::npos, "message is not one line: " << message);
        for (const std::string& word : words) {
            BOOST_TEST(message.find(word) != std::string::npos,
                       "message lacks '" << word << "': " << message);
        }
    }
}

std::vector<std::u32string> read_file_documents(const std::string& name, const std::string& bytes) {
    return io::read_documents(write_text(name, bytes)).documents;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(documents)

BOOST_AUTO_TEST_CASE(one_document_per_line) {
    const io::document_set set = io::read_documents(write_text("plain.txt", "emma\nolivia\nava\n"));
    BOOST_TEST(set.source.find("plain.txt") != std::string::npos);
    BOOST_TEST((set.documents == std::vector<std::u32string>{U"emma", U"olivia", U"ava"}));
}

BOOST_AUTO_TEST_CASE(last_line_without_newline) {
    BOOST_TEST((read_file_documents("no_final_newline.txt", "emma\nava") ==
                std::vector<std::u32string>{U"emma", U"ava"}));
}

BOOST_AUTO_TEST_CASE(crlf_line_endings) {
    BOOST_TEST((read_file_documents("crlf.txt", "anna\r\nbob\r\n\r\ncy\r\n") ==
                std::vector<std::u32string>{U"anna", U"bob", U"cy"}));
}

BOOST_AUTO_TEST_CASE(blank_lines_are_skipped) {
    BOOST_TEST((read_file_documents("blank_lines.txt", "\n\na\n\n   \n\t\n \t \r\nb\n\n") ==
                std::vector<std::u32string>{U"a", U"b"}));
}

BOOST_AUTO_TEST_CASE(leading_and_trailing_whitespace_is_stripped) {
    BOOST_TEST((read_file_documents("spaces.txt", "  José \t\n\tmary ann  \r\n") ==
                std::vector<std::u32string>{U"José", U"mary ann"}));
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_skipped) {
    BOOST_TEST((read_file_documents("bom.txt", "\xEF\xBB\xBFzoe\nkim\n") ==
                std::vector<std::u32string>{U"zoe", U"kim"}));
}

BOOST_AUTO_TEST_CASE(multi_byte_characters_are_one_token_each) {
    const io::document_set set =
        io::read_documents(write_text("utf8.txt", "José\nZoë\n日本\n🙂x\n"));
    BOOST_REQUIRE_EQUAL(set.documents.size(), 4u);
    BOOST_TEST(set.documents[0].size() == 4u);
    BOOST_TEST(set.documents[1].size() == 3u);
    BOOST_TEST(set.documents[2].size() == 2u);
    BOOST_TEST(set.documents[3].size() == 2u);
    BOOST_TEST((set.documents[0] == U"José"));
    BOOST_TEST((set.documents[3][0] == U'\U0001F642'));
}

BOOST_AUTO_TEST_CASE(documents_from_lines_follows_the_same_rules) {
    const std::vector<std::string> lines{"  Zoë\r", "", "\t", "José",
                                         "\xEF\xBB\xBF"
                                         "x"};
    const io::document_set set = io::documents_from_lines("generated", lines);
    BOOST_TEST(set.source == "generated");
    // The byte order mark is only skipped at the start of the first line.
    BOOST_TEST((set.documents == std::vector<std::u32string>{U"Zoë", U"José", U"\uFEFFx"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_text_files)

BOOST_AUTO_TEST_CASE(missing_file) {
    const std::string path = (scratch_directory() / "missing_names.txt").string();
    expect_input_error([&] { io::read_documents(path); }, {"missing_names.txt", "no such file"});
}

BOOST_AUTO_TEST_CASE(directory) {
    const fs::path path = scratch_directory() / "a_directory.txt";
    fs::create_directories(path);
    expect_input_error([&] { io::read_documents(path.string()); },
                       {"a_directory.txt", "directory"});
}

BOOST_AUTO_TEST_CASE(unreadable_file) {
    const std::string path = write_text("unreadable.txt", "emma\n");
    fs::permissions(path, fs::perms::none);
    if (std::ifstream(path).is_open()) {
        BOOST_TEST_MESSAGE("not checked: the file is readable despite mode 000 (root?)");
        BOOST_TEST(io::read_documents(path).documents.size() == 1u);
    } else {
        expect_input_error([&] { io::read_documents(path); }, {"unreadable.txt", "cannot open"});
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

BOOST_AUTO_TEST_CASE(empty_file) {
    const std::string path = write_text("empty.txt", "");
    expect_input_error([&] { io::read_documents(path); }, {"empty.txt", "empty"});
    expect_input_error([] { io::documents_from_lines("nothing", std::vector<std::string>{}); },
                       {"nothing", "empty"});
}

BOOST_AUTO_TEST_CASE(only_blank_lines) {
    const std::string path = write_text("blank.txt", "\n   \n\t\r\n\r\n");
    expect_input_error([&] { io::read_documents(path); }, {"blank.txt", "only blank lines"});
    expect_input_error(
        [] {
            io::documents_from_lines("blanks", std::vector<std::string>{"", " "});
        },
        {"blanks", "only blank lines"});
}

// Each bad line is line 3 of its file; the message gives file:line:, the byte and its column.
BOOST_AUTO_TEST_CASE(invalid_utf8) {
    struct bad_line {
        std::string name;
        std::string line;
        std::string byte;
        std::string column;
        std::string why;
    };
    const std::vector<bad_line> cases{
        {"lone_continuation",
         "ab\x80"
         "c",
         "0x80", "column 3", "continuation"},
        {"truncated_at_end", "ab\xC3", "0xc3", "column 3", "truncated"},
        {"truncated_inside",
         "a\xE2\x82"
         "b",
         "0xe2", "column 2", "truncated"},
        {"truncated_four", "\xF0\x9F\x99", "0xf0", "column 1", "truncated"},
        {"overlong_two", "\xC0\xAF", "0xc0", "column 1", "overlong"},
        {"overlong_three", "x\xE0\x80\xAF", "0xe0", "column 2", "overlong"},
        {"overlong_four", "\xF0\x80\x80\xAF", "0xf0", "column 1", "overlong"},
        {"surrogate", "ab\xED\xA0\x80", "0xed", "column 3", "surrogate"},
        {"above_max", "\xF4\x90\x80\x80", "0xf4", "column 1", "U+10FFFF"},
        {"byte_ff", "  ab\xFF", "0xff", "column 5", "never"},  // columns count the stripped spaces
        {"latin1", "Jos\xE9", "0xe9", "column 4", "truncated"},
    };
    for (const bad_line& c : cases) {
        const std::string file = c.name + ".txt";
        const std::string path = write_text(file, "good\n\n" + c.line + "\nalso good\n");
        expect_input_error([&] { io::read_documents(path); },
                           {file + ":3:", "invalid UTF-8", c.byte, c.column, c.why});
    }
    expect_input_error(
        [] {
            io::documents_from_lines("lines", std::vector<std::string>{"ok", "b\xFF"});
        },
        {"lines:2:", "0xff", "column 2"});
}

BOOST_AUTO_TEST_CASE(invalid_utf8_after_crlf_lines_has_the_right_line_number) {
    const std::string path = write_text("crlf_bad.txt", "a\r\nb\r\n\r\nc\xFF\r\n");
    expect_input_error([&] { io::read_documents(path); }, {"crlf_bad.txt:4:", "column 2"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(vocabulary)

BOOST_AUTO_TEST_CASE(sorted_distinct_code_points_then_bos) {
    const std::vector<std::string> lines{"cab", "ba", "Zoë", "é"};
    const io::vocabulary vocab =
        io::vocabulary::from_documents(io::documents_from_lines("v", lines));
    // Code point order: 'Z' (U+005A) before lowercase, 'é' (U+00E9) before 'ë' (U+00EB).
    const std::u32string expected = U"Zabcoéë";
    BOOST_REQUIRE_EQUAL(vocab.size(), static_cast<int>(expected.size()));
    for (int token = 0; token < vocab.size(); ++token) {
        BOOST_TEST((vocab.symbol(token) == expected[static_cast<std::size_t>(token)]),
                   "token " << token);
        BOOST_TEST(vocab.token_of(expected[static_cast<std::size_t>(token)]) == token);
    }
    BOOST_TEST(vocab.bos() == vocab.size());
    BOOST_TEST(vocab.token_of(U'q') == -1);
    BOOST_CHECK_THROW(vocab.symbol(vocab.bos()), std::out_of_range);
    BOOST_CHECK_THROW(vocab.symbol(-1), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(from_symbols_keeps_the_given_order) {
    const io::vocabulary vocab = io::vocabulary::from_symbols({U')', U'('});
    BOOST_TEST(vocab.size() == 2);
    BOOST_TEST(vocab.bos() == 2);
    BOOST_TEST(vocab.token_of(U')') == 0);
    BOOST_TEST(vocab.token_of(U'(') == 1);
    BOOST_CHECK_THROW(io::vocabulary::from_symbols({U'a', U'b', U'a'}), std::invalid_argument);
    BOOST_CHECK_THROW(io::vocabulary::from_symbols({char32_t{0xD800}}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(empty_vocabulary) {
    const io::vocabulary vocab;
    BOOST_TEST(vocab.size() == 0);
    BOOST_TEST(vocab.bos() == 0);
    BOOST_TEST(vocab.to_utf8().empty());
}

BOOST_AUTO_TEST_CASE(encode_decode_round_trip) {
    const std::vector<std::string> lines{"José", "Zoë", "anna"};
    const io::document_set set = io::documents_from_lines("names.txt", lines);
    const io::vocabulary vocab = io::vocabulary::from_documents(set);
    for (std::size_t i = 0; i < set.documents.size(); ++i) {
        const std::vector<int> tokens = io::encode(vocab, set.documents[i], set.source, i);
        BOOST_REQUIRE_EQUAL(tokens.size(), set.documents[i].size() + 2);
        BOOST_TEST(tokens.front() == vocab.bos());
        BOOST_TEST(tokens.back() == vocab.bos());
        BOOST_TEST(io::decode_utf8(vocab, tokens) == lines[i]);
    }
    BOOST_TEST(io::encode(vocab, U"José", "x", 0).size() == 6u);
    BOOST_TEST(io::encode(vocab, U"Zoë", "x", 0).size() == 5u);
    const std::vector<int> bad_token{vocab.bos() + 1};
    BOOST_CHECK_THROW(io::decode_utf8(vocab, bad_token), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(unknown_character_is_an_input_error) {
    const io::vocabulary vocab = io::vocabulary::from_documents(
        io::documents_from_lines("train.txt", std::vector<std::string>{"zoe", "jose"}));
    expect_input_error([&] { io::encode(vocab, U"Zoë", "names.txt", 2); },
                       {"names.txt", "document 3", "'Z'", "U+005A", "not in the vocabulary"});
    expect_input_error([&] { io::encode(vocab, U"zoë", "names.txt", 0); },
                       {"document 1", "'ë'", "U+00EB"});
    // A control character is shown by code point only, so the message stays on one line.
    expect_input_error([&] { io::encode(vocab, U"zo\n", "names.txt", 0); }, {"U+000A"});
}

BOOST_AUTO_TEST_CASE(utf8_round_trip) {
    const io::vocabulary vocab = io::vocabulary::from_documents(
        io::documents_from_lines("v", std::vector<std::string>{"abc", "Zoë", "日本🙂", "a b"}));
    const std::string text = vocab.to_utf8();
    BOOST_TEST(text == " Zabcoë日本🙂");
    BOOST_TEST((io::vocabulary::from_utf8(text, "ckpt") == vocab));

    const io::vocabulary parens = io::vocabulary::from_symbols({U')', U'('});
    BOOST_TEST(parens.to_utf8() == ")(");
    BOOST_TEST((io::vocabulary::from_utf8(parens.to_utf8(), "ckpt") == parens));
    BOOST_TEST((io::vocabulary::from_utf8("", "ckpt") == io::vocabulary()));
}

BOOST_AUTO_TEST_CASE(from_utf8_rejects_bad_text) {
    expect_input_error(
        [] { io::vocabulary::from_utf8("ab\xFF", "w.safetensors: metadata 'vocab'"); },
        {"w.safetensors", "vocab", "invalid UTF-8", "0xff"});
    expect_input_error([] { io::vocabulary::from_utf8("abca", "w.safetensors"); },
                       {"w.safetensors", "'a'", "twice"});
}

BOOST_AUTO_TEST_CASE(to_utf8_replaces_invalid_code_points) {
    BOOST_TEST(io::to_utf8(U"Zoë") == "Zoë");
    const std::u32string invalid{char32_t{0xD800}, char32_t{0x110000}};
    BOOST_TEST(io::to_utf8(invalid) == "\uFFFD\uFFFD");
}

BOOST_AUTO_TEST_SUITE_END()

// The shared names corpus: 32033 names over 26 lowercase letters.
BOOST_AUTO_TEST_CASE(names_corpus) {
    const auto& suite = boost::unit_test::framework::master_test_suite();
    if (suite.argc < 2) {
        BOOST_TEST_MESSAGE("skipped: no path to names.txt given on the command line");
        return;
    }
    const io::document_set set = io::read_documents(suite.argv[1]);
    BOOST_TEST(set.documents.size() == 32033u);
    const io::vocabulary vocab = io::vocabulary::from_documents(set);
    BOOST_TEST(vocab.size() == 26);
    BOOST_TEST(vocab.bos() == 26);
    BOOST_TEST(vocab.to_utf8() == "abcdefghijklmnopqrstuvwxyz");
    BOOST_TEST((set.documents.front() == U"emma"));
    const std::vector<int> tokens = io::encode(vocab, set.documents.front(), set.source, 0);
    BOOST_TEST((tokens == std::vector<int>{26, 4, 12, 12, 0, 26}));
}
