#pragma once
// A scratch file per fuzzing process: $TMPDIR/gflow-fuzz-<pid>/<name>, removed at exit.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace gflow::fuzz {

inline std::filesystem::path& scratch_directory() {
    static std::filesystem::path directory;
    return directory;
}

inline std::string scratch_path(const std::string& name) {
    namespace fs = std::filesystem;
    fs::path& directory = scratch_directory();
    if (directory.empty()) {
        const char* configured = std::getenv("TMPDIR");
        const fs::path base = configured != nullptr && *configured != '\0' ? configured : "/tmp";
        directory = base / ("gflow-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(directory);
        std::atexit([] {
            std::error_code ignored;
            fs::remove_all(scratch_directory(), ignored);
        });
    }
    return (directory / name).string();
}

}  // namespace gflow::fuzz
