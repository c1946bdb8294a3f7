// Every input that the fuzz targets (fuzz/) should keep handling, run through the same checks
// as the fuzz targets, with whatever compiler builds the tests: the files in
// tests/io/regression/ (crashes the fuzzers found, and hand-made hard cases) and the fuzzers'
// seed corpus. Arguments (after "--"): directories, each with subdirectories text_data/ and
// safetensors/ holding one input per file.
//
// To add a crash found by scripts/fuzz.sh: copy build-fuzz/fuzz/<target>-crash-<sha1> to
// tests/io/regression/<target>/ under a name that says what it is.
//
// Temporary files go to $GFLOW_TEST_TMPDIR (meson sets it to the build directory).

#define BOOST_TEST_MODULE io_fuzz_regressions
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "../../fuzz/io_checks.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch_directory() {
    const char* configured = std::getenv("GFLOW_TEST_TMPDIR");
    const fs::path base = configured != nullptr ? fs::path(configured) : fs::temp_directory_path();
    const fs::path directory = base / "gflow-test-fuzz-regressions";
    fs::create_directories(directory);
    return directory;
}

// The input files of `kind` in every directory given on the command line, sorted.
std::vector<fs::path> inputs(const std::string& kind) {
    std::vector<fs::path> files;
    const auto& master = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i < master.argc; ++i) {
        const fs::path directory = fs::path(master.argv[i]) / kind;
        if (!fs::is_directory(directory)) {
            continue;
        }
        for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
            if (entry.is_regular_file() && entry.path().filename().string().front() != '.') {
                files.push_back(entry.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

template <class Check>
void run_all(const std::string& kind, const std::string& scratch_name, Check check) {
    const std::vector<fs::path> files = inputs(kind);
    BOOST_TEST_REQUIRE(!files.empty(), "no " << kind << " inputs found in the given directories");
    const std::string scratch = (scratch_directory() / scratch_name).string();
    for (const fs::path& file : files) {
        BOOST_TEST_CONTEXT(file.string()) {
            try {
                check(gflow::fuzz::read_file(file.string()), scratch);
                BOOST_TEST_MESSAGE("ok: " << file.string());
            } catch (const gflow::fuzz::check_failure& failure) {
                BOOST_ERROR("property broken: " << failure.what());
            } catch (const std::exception& error) {
                BOOST_ERROR("unexpected exception (only gflow::input_error is allowed): "
                            << error.what());
            }
        }
    }
    BOOST_TEST_MESSAGE(files.size() << " " << kind << " inputs checked");
}

}  // namespace

BOOST_AUTO_TEST_CASE(text_data_inputs) {
    run_all("text_data", "input.txt", [](const std::string& bytes, const std::string& scratch) {
        gflow::fuzz::check_text_data(bytes, scratch);
    });
}

BOOST_AUTO_TEST_CASE(safetensors_inputs) {
    run_all("safetensors", "input.safetensors",
            [](const std::string& bytes, const std::string& scratch) {
                gflow::fuzz::check_safetensors(bytes, scratch);
            });
}
