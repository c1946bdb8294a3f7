// check_excerpts: every C++ excerpt in README.md and docs/**/*.md is code that the build compiles.
//
// The convention: a fenced block of C++ (```cpp or ```c++) is preceded by a marker line
//
//     <!-- from: examples/names_model.hpp -->
//
// naming the file it was taken from, relative to the repository. The check fails when
//   - a C++ block has no marker, or a marker no block;
//   - the file does not exist, or is not compiled by the build: a .cpp must be a translation unit
//     of the build (compile_commands.json), a header must be included by one (directly or through
//     other headers of the repository);
//   - the excerpt is not in the file verbatim: its lines must be consecutive lines of the file,
//     all with the same added indentation (so an excerpt may come from inside a function).
//
//   check_excerpts SOURCE_ROOT BUILD_ROOT
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/core.h>

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty() && l.back() == '\r') l.pop_back();
        out.push_back(l);
    }
    return out;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

// Whether `excerpt` occurs in `file` as consecutive lines, each with the same indentation added.
bool contains_verbatim(const std::vector<std::string>& file, const std::vector<std::string>& excerpt) {
    if (excerpt.empty()) return false;
    for (std::size_t start = 0; start + excerpt.size() <= file.size(); ++start) {
        std::string indent;
        bool ok = true, have_indent = false;
        for (std::size_t i = 0; i < excerpt.size() && ok; ++i) {
            const std::string& f = file[start + i];
            const std::string& e = excerpt[i];
            if (blank(e)) {
                ok = blank(f);
                continue;
            }
            if (!have_indent) {
                if (f.size() < e.size() || f.compare(f.size() - e.size(), e.size(), e) != 0) { ok = false; break; }
                indent = f.substr(0, f.size() - e.size());
                ok = blank(indent) || indent.empty();
                have_indent = true;
            } else {
                ok = f == indent + e;
            }
        }
        if (ok) return true;
    }
    return false;
}

// The repository-relative paths the build compiles: its translation units, then every header of
// the repository that one of them includes, directly or through other headers.
std::set<std::string> compiled_files(const fs::path& root, const fs::path& build) {
    std::set<std::string> compiled;
    const auto db = boost::json::parse(read(build / "compile_commands.json")).as_array();
    for (const auto& e : db) {
        const auto& o = e.as_object();
        fs::path file(std::string(o.at("file").as_string()));
        if (file.is_relative()) file = fs::path(std::string(o.at("directory").as_string())) / file;
        const auto rel = fs::weakly_canonical(file).lexically_relative(fs::weakly_canonical(root));
        if (!rel.empty() && *rel.begin() != "..") compiled.insert(rel.generic_string());
    }
    std::vector<std::string> headers;
    for (const char* dir : {"include", "examples", "tests", "src"})
        if (fs::exists(root / dir))
            for (const auto& entry : fs::recursive_directory_iterator(root / dir))
                if (entry.is_regular_file() && (entry.path().extension() == ".hpp" || entry.path().extension() == ".h"))
                    headers.push_back(entry.path().lexically_relative(root).generic_string());
    const std::regex include_line(R"re(^\s*#\s*include\s*[<"]([^>"]+)[>"])re");
    std::vector<std::string> queue(compiled.begin(), compiled.end());
    while (!queue.empty()) {
        const std::string file = queue.back();
        queue.pop_back();
        for (const auto& line : lines_of(read(root / file))) {
            std::smatch m;
            if (!std::regex_search(line, m, include_line)) continue;
            const std::string inc = m[1];
            const std::string here = (fs::path(file).parent_path() / inc).lexically_normal().generic_string();
            for (const auto& h : headers) {
                const bool match = h == here || (h.size() > inc.size() && h.ends_with("/" + inc));
                if (match && compiled.insert(h).second) queue.push_back(h);
            }
        }
    }
    return compiled;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 3) {
        fmt::print(stderr, "usage: check_excerpts SOURCE_ROOT BUILD_ROOT\n");
        return 2;
    }
    const fs::path root = argv[1], build = argv[2];
    const auto compiled = compiled_files(root, build);

    std::vector<fs::path> pages{root / "README.md"};
    for (const auto& entry : fs::recursive_directory_iterator(root / "docs"))
        if (entry.is_regular_file() && entry.path().extension() == ".md") pages.push_back(entry.path());
    std::sort(pages.begin() + 1, pages.end());

    const std::regex marker(R"re(^<!--\s*from:\s*(\S+)\s*-->\s*$)re");
    const std::regex cpp_fence(R"re(^\s*```\s*(cpp|c\+\+|C\+\+)\s*$)re");
    int errors = 0, checked = 0;
    for (const auto& page : pages) {
        const auto lines = lines_of(read(page));
        const std::string name = page.lexically_relative(root).generic_string();
        std::string pending;   // the source named by the last marker, until its block
        std::size_t pending_line = 0;
        bool in_fence = false;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const std::string& l = lines[i];
            std::smatch m;
            if (!in_fence && std::regex_match(l, m, marker)) {
                if (!pending.empty()) {
                    fmt::print(stderr, "{}:{}: a 'from:' marker without a C++ block after it\n", name, pending_line);
                    ++errors;
                }
                pending = m[1];
                pending_line = i + 1;
                continue;
            }
            const bool fence = l.find("```") != std::string::npos && l.find_first_not_of(" ") == l.find("```");
            if (!fence) {
                if (!in_fence && !blank(l) && !pending.empty()) {
                    fmt::print(stderr, "{}:{}: a 'from:' marker must be followed by its C++ block\n", name, pending_line);
                    ++errors;
                    pending.clear();
                }
                continue;
            }
            if (in_fence) { in_fence = false; continue; }
            in_fence = true;
            if (!std::regex_match(l, cpp_fence)) {
                if (!pending.empty()) {
                    fmt::print(stderr, "{}:{}: a 'from:' marker before a block that is not C++\n", name, pending_line);
                    ++errors;
                    pending.clear();
                }
                continue;
            }
            // a C++ block: lines i+1 .. the closing fence
            std::vector<std::string> excerpt;
            std::size_t j = i + 1;
            for (; j < lines.size() && lines[j].find("```") == std::string::npos; ++j) excerpt.push_back(lines[j]);
            const std::size_t block_line = i + 1;
            i = j;   // the closing fence
            in_fence = false;
            ++checked;
            if (pending.empty()) {
                fmt::print(stderr, "{}:{}: a C++ block without a '<!-- from: FILE -->' marker line before it\n", name,
                           block_line);
                ++errors;
                continue;
            }
            const std::string source = pending;
            pending.clear();
            if (!fs::is_regular_file(root / source)) {
                fmt::print(stderr, "{}:{}: '{}' does not exist\n", name, block_line, source);
                ++errors;
            } else if (!compiled.contains(source)) {
                fmt::print(stderr, "{}:{}: '{}' is not compiled by the build (not a translation unit in "
                                   "compile_commands.json, nor a header one of them includes)\n",
                           name, block_line, source);
                ++errors;
            } else if (!contains_verbatim(lines_of(read(root / source)), excerpt)) {
                fmt::print(stderr, "{}:{}: this excerpt is not in '{}' verbatim (consecutive lines, same indentation)\n",
                           name, block_line, source);
                ++errors;
            }
        }
        if (!pending.empty()) {
            fmt::print(stderr, "{}:{}: a 'from:' marker without a C++ block after it\n", name, pending_line);
            ++errors;
        }
    }
    fmt::print("{} C++ excerpts in {} pages, {} errors\n", checked, pages.size(), errors);
    return errors == 0 ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "check_excerpts: {}\n", e.what());
    return 1;
}
