// gflow::buffer (network.hpp), the arrays a network allocates once: zero-filled, 64-byte aligned,
// and from 2 MiB on aligned to 2 MiB with transparent huge pages asked for (on Linux, where the
// kernel has them: its VmFlags in /proc/self/smaps then say "hg").
#define BOOST_TEST_MODULE model_buffer
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gflow/network.hpp>

namespace {

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

template <class S>
bool all_zero(const gflow::buffer<S>& b) {
    return std::all_of(b.data(), b.data() + b.size(), [](S x) { return x == S(0); });
}

// The VmFlags line of the mapping that holds p ("" if none is found).
std::string vm_flags_of(const void* p) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t begin = 0, end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> begin >> dash >> end && dash == '-') {
            inside = begin <= address(p) && address(p) < end;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line;
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(small_buffers_are_zero_and_64_byte_aligned) {
    for (std::size_t count : {0, 1, 7, 1000, 100000}) {
        gflow::buffer<float> b(count);
        BOOST_TEST(b.size() == count);
        BOOST_TEST(address(b.data()) % 64 == 0);
        BOOST_TEST(all_zero(b));
    }
}

BOOST_AUTO_TEST_CASE(large_buffers_are_zero_and_2_mib_aligned) {
    constexpr std::size_t huge = std::size_t(2) << 20;
    // just below, at and past 2 MiB, and a size that is no multiple of it (the allocation is
    // rounded up to whole huge pages: the last scalar is writable)
    for (std::size_t bytes : {huge - 8, huge, 3 * huge + 24}) {
        gflow::buffer<double> b(bytes / sizeof(double));
        BOOST_TEST(all_zero(b));
        BOOST_TEST(address(b.data()) % (bytes >= huge ? huge : 64) == 0);
        b.data()[b.size() - 1] = 1.0;
        BOOST_TEST(b.data()[b.size() - 1] == 1.0);
    }
}

BOOST_AUTO_TEST_CASE(large_buffers_ask_for_huge_pages) {
#if defined(__linux__)
    if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
        BOOST_TEST_MESSAGE("this kernel has no transparent huge pages: nothing to check");
        return;
    }
    gflow::buffer<float> large(std::size_t(8) << 20);   // 32 MiB
    const std::string flags = vm_flags_of(large.data());
    BOOST_TEST_INFO("the mapping's " << flags);
    BOOST_TEST(flags.find(" hg") != std::string::npos);   // MADV_HUGEPAGE took
    gflow::buffer<float> small(1000);
    BOOST_TEST(vm_flags_of(small.data()).find(" hg") == std::string::npos);   // not asked for small ones
#else
    BOOST_TEST_MESSAGE("not Linux: huge pages are not asked for");
#endif
}

BOOST_AUTO_TEST_CASE(moving_keeps_the_storage) {
    gflow::buffer<float> a(std::size_t(1) << 20);
    a.data()[5] = 3.0f;
    const float* storage = a.data();
    gflow::buffer<float> b(10);
    b = std::move(a);
    BOOST_TEST(b.data() == storage);
    BOOST_TEST(b.data()[5] == 3.0f);
    BOOST_TEST(b.size() == (std::size_t(1) << 20));
}
