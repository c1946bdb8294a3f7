// libFuzzer target for the checkpoint reader: the input is a safetensors file's content. It goes
// through gflow::io::read_safetensors from a scratch file. Whatever is read must be written
// back by write_safetensors and read again unchanged (names, dtypes, shapes, bit-identical
// values, metadata). Bad input must end in gflow::input_error; a broken property aborts.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scratch.hpp"
#include "io_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = gflow::fuzz::scratch_path("input.safetensors");
    try {
        gflow::fuzz::check_safetensors(
            std::string_view(reinterpret_cast<const char*>(data), size), path);
    } catch (const gflow::fuzz::check_failure& failure) {
        std::fprintf(stderr, "fuzz_safetensors: property broken: %s\n", failure.what());
        std::abort();
    }
    return 0;
}
