// libFuzzer target for the data loader: the input is a text file's content. It goes through
// gflow::io::read_documents (from a scratch file: BOM, CRLF, blank lines, UTF-8 decoding) and
// through documents_from_lines (the same bytes split on '\n'); both must agree. A valid corpus
// then gets a vocabulary, and every document must survive encode / decode_utf8 unchanged.
// Bad input must end in gflow::input_error; a broken property aborts (see io_checks.hpp).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scratch.hpp"
#include "io_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = gflow::fuzz::scratch_path("input.txt");
    try {
        gflow::fuzz::check_text_data(
            std::string_view(reinterpret_cast<const char*>(data), size), path);
    } catch (const gflow::fuzz::check_failure& failure) {
        std::fprintf(stderr, "fuzz_text_data: property broken: %s\n", failure.what());
        std::abort();
    }
    return 0;
}
