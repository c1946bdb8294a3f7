// gflow/distributed.hpp: data-parallel training over the ranks of an MPI job (docs/distributed.md).
//
// Every rank holds the whole model. Every rank is given the same global batch; each takes a
// contiguous share of it (share_of), computes the gradient of its share's summed loss divided by
// the whole batch's token count (network::loss_and_gradient(share, batch_tokens)), and one
// allreduce per step sums the ranks' gradients in place. Every rank then applies the same Adam
// update to the same weights, so the weights stay identical on every rank (job::first_differing
// checks it) and the run does not depend on the rank count beyond the grouping of sums.
//
// MPI is Open MPI from Debian through its C API, in src/distributed.cpp alone: a step needs one
// in-place sum over a buffer the network already owns, which MPI_Allreduce does without copying
// or serialising anything; Boost.MPI would add two compiled Boost libraries (mpi, serialization)
// for a wrapper of that one call. This header names no MPI type, and a build without MPI (-Dmpi=
// disabled, or Open MPI not installed) compiles the same functions for one rank.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include <gflow/network.hpp>

namespace gflow::distributed {

// Whether this gflow was built with MPI (Meson's dependency('mpi'), option -Dmpi).
bool built_with_mpi();

// A rank's failure as the program would report it alone: "<program>: <cause>" and an exit status.
struct failure {
    int status = 0;   // 0: none
    std::string program, cause;
};

// Thrown on every rank when a phase failed on some rank (together, job::agree): the failing rank
// has printed its cause; every rank stops with `status`.
struct reported {
    int status = 1;
};

// An error that every rank raises at the same point from the same values (values summed over the
// ranks, or a check all ranks take together): reported once, by rank 0, and no rank aborts.
struct collective_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The job's ranks: MPI_COMM_WORLD of a program started by mpirun (or another MPI launcher), else
// one rank. Constructing it starts MPI (funneled: the main thread alone calls MPI while OpenMP's
// threads compute); destroying it ends MPI. A program not started by a launcher does not start MPI
// at all: it runs as before, with no MPI start-up cost, and every operation below is the identity.
// One per process, made in main (world() then returns it).
class job {
public:
    job(int& argc, char**& argv);
    ~job();
    job(const job&) = delete;
    job& operator=(const job&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    bool root() const { return rank_ == 0; }

    // In-place sums over the ranks (MPI_Allreduce, MPI_SUM): every rank gets the same result.
    void sum(std::span<float> values) const;
    void sum(std::span<double> values) const;
    double sum(double value) const;
    // Elementwise smallest and largest over the ranks, in place (timings).
    void min(std::span<double> values) const;
    void max(std::span<double> values) const;
    // The lowest rank whose `value` differs from rank 0's, or -1 when all are the same (every
    // rank learns the same answer).
    int first_differing(std::uint64_t value) const;
    // Whether this rank's `value` is rank 0's (each rank learns its own answer).
    bool same_as_root(std::uint64_t value) const;

    // Every rank calls this after a phase that each ran on its own (reading flags, data, a
    // checkpoint) with its own outcome; returns the exit status every rank should stop with
    // (0: none failed). The lowest failing rank prints its cause, once: "program: cause" when
    // every rank failed alike (a bad flag), "program: rank R: cause" when some did not.
    int agree(const failure& mine) const;
    // Stops the whole job from one rank, when the others may be waiting in a collective: prints
    // "program: rank R: cause" (one line on stderr), then MPI_Abort with the status.
    [[noreturn]] void abort(const failure& mine) const;

private:
    job() = default;   // one rank, MPI not started: world() when main made no job
    friend const job& world();
    int rank_ = 0, size_ = 1;
    bool started_ = false;   // MPI_Init was called here
};

// The process's job (the one main made), or one rank when main made none.
const job& world();

// Runs `phase` on this rank (what each rank does on its own: reading flags, data, a checkpoint),
// then agrees with the other ranks: when it failed anywhere, the lowest failing rank prints its
// cause (job::agree) and every rank throws reported{status}. `describe` turns the exception a
// phase threw into a failure. A phase must not call a collective operation after something that
// may throw, or a rank that threw would leave the others waiting in it.
template <class Phase, class Describe>
void together(const job& ranks, Phase&& phase, Describe&& describe) {
    failure mine;
    try {
        phase();
    } catch (const std::exception& e) {
        mine = describe(e);
    }
    if (const int status = ranks.agree(mine)) throw reported{status};
}

// The documents [begin, end) of a batch of `count` that rank `rank` of `size` takes: contiguous,
// in rank order, sizes differing by at most one (the first count % size ranks take one more), so
// every document of the batch is taken by exactly one rank.
struct range {
    std::size_t begin = 0, end = 0;
    std::size_t size() const { return end - begin; }
};
constexpr range share_of(std::size_t count, int rank, int size) {
    const std::size_t ranks = std::size_t(size), r = std::size_t(rank);
    const std::size_t base = count / ranks, extra = count % ranks;
    const std::size_t begin = r * base + std::min(r, extra);
    return {begin, begin + base + (r < extra ? 1 : 0)};
}

// A 64-bit checksum of the bits of `values` (weights, tokens, text) (four interleaved FNV-1a-like lanes, combined): equal
// on two ranks exactly when their values are, but for a collision chance of about 2^-64.
template <class S>
std::uint64_t checksum(std::span<const S> values) {
    static_assert(sizeof(S) == 1 || sizeof(S) == 4 || sizeof(S) == 8, "gflow: a checksum of bytes, or of 4- or 8-byte values");
    using bits = std::conditional_t<sizeof(S) == 1, std::uint8_t, std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>>;
    constexpr std::uint64_t prime = 0x100000001B3ull;
    std::uint64_t lane[4] = {0xCBF29CE484222325ull, 0x84222325CBF29CE4ull, 0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull};
    const std::size_t n = values.size();
    std::size_t i = 0;
    const auto word = [&](std::size_t k) {
        bits b;
        std::memcpy(&b, &values[k], sizeof b);
        return std::uint64_t(b);
    };
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; ++l) lane[l] = (lane[l] ^ word(i + std::size_t(l))) * prime;
    for (; i < n; ++i) lane[0] = (lane[0] ^ word(i)) * prime;
    std::uint64_t h = std::uint64_t(n);
    for (const std::uint64_t l : lane) h = (h ^ l) * prime;
    return h;
}

template <class S>
    requires(!std::is_const_v<S>)
std::uint64_t checksum(std::span<S> values) {
    return checksum(std::span<const S>(values));
}

// Predicted tokens of a batch as network::loss_and_gradient counts them: min(T, length - 1) each.
template <class Net>
long predicted_tokens(std::span<const document> batch) {
    long n = 0;
    for (const auto& d : batch) n += std::max(0L, std::min<long>(Net::T, long(d.size()) - 1));
    return n;
}

// Where a data-parallel step's time went on this rank.
struct step_times {
    double compute_s = 0;     // this rank's share: forward and backward
    double allreduce_s = 0;   // the gradient's sum over the ranks (with any wait for slower ranks)
};

// The whole batch's mean loss, and on every rank its gradient in net.gradients(): this rank's share
// of `batch` (share_of) through the network, then one in-place sum of the gradients over the ranks
// and one of the loss. Every rank passes the same batch. Allocates nothing in gflow (Open MPI may
// use scratch memory of its own inside the allreduce). With one rank this is
// net.loss_and_gradient(batch), bit for bit.
template <class Net>
double loss_and_gradient(Net& net, const job& ranks, std::span<const document> batch, step_times* times = nullptr) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    if (ranks.size() == 1) {
        const double loss = double(net.loss_and_gradient(batch));
        if (times) *times = {std::chrono::duration<double>(clock::now() - t0).count(), 0};
        return loss;
    }
    const range mine = share_of(batch.size(), ranks.rank(), ranks.size());
    const long tokens = predicted_tokens<Net>(batch);
    double loss = double(net.loss_and_gradient(batch.subspan(mine.begin, mine.size()), int(tokens)));
    const auto t1 = clock::now();
    ranks.sum(net.gradients());
    const auto t2 = clock::now();
    loss = ranks.sum(loss);
    if (times)
        *times = {std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count()};
    return loss;
}

// Checks, on every rank together, that every rank holds the same weights; throws a
// collective_error naming the first rank that does not (after `step` steps).
template <class Net>
void check_identical(const Net& net, const job& ranks, int step) {
    if (ranks.size() == 1) return;
    if (const int r = ranks.first_differing(checksum(net.parameters())); r >= 0)
        throw collective_error(fmt::format("after step {}, rank {}'s weights differ from rank 0's", step, r));
}

}  // namespace gflow::distributed
