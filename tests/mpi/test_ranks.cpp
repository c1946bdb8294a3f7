// Data parallelism over the ranks of an MPI job (include/gflow/distributed.hpp), run by
// tests/mpi/meson.build under mpirun with 2 and 3 ranks. A small batched names model in f64, on
// batches of documents of unequal lengths, shared unevenly (and, for a batch of one document, with
// ranks that get nothing): every rank also trains a network of its own on the whole batch alone,
// the one-rank run, and holds the data-parallel run against it.
//   test_ranks                    the checks; exit status 1 if any failed on any rank
//   test_ranks --throw-on-rank R  rank R throws in the middle of step 5 while the others wait in
//                                 the step's allreduce: the job must stop, naming rank R
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/distributed.hpp>
#include <gflow/testing/tolerance.hpp>

#include "names_model.hpp"

namespace {

namespace distributed = gflow::distributed;
constexpr int max_batch = 5;
constexpr auto model = gflow::with_batch<max_batch>(names::model<2>(names::grassmann_mixer));
using net_type = gflow::network<std::remove_const_t<decltype(model)>, double>;
constexpr int V = net_type::V, T = net_type::T, bos = V - 1;
constexpr int steps = 20;

// Step s's batch: 5 documents of 1 to T + 4 letters (the longest truncated to T predictions),
// except every 7th step, a batch of one document (with 2 or 3 ranks, some get no share at all).
std::vector<gflow::document> batch_of(int step) {
    gflow::rng gen(1000 + std::uint64_t(step));
    const int count = step % 7 == 6 ? 1 : max_batch;
    std::vector<gflow::document> docs;
    for (int d = 0; d < count; ++d) {
        gflow::document doc{bos};
        const int letters = 1 + int(gen.below(T + 4));
        for (int i = 0; i < letters; ++i) doc.push_back(int(gen.below(V - 1)));
        doc.push_back(bos);
        docs.push_back(std::move(doc));
    }
    return docs;
}

int failures = 0;
void check(const distributed::job& ranks, bool ok, const std::string& what) {
    if (!ok) {
        ++failures;
        fmt::print("FAIL (rank {}): {}\n", ranks.rank(), what);
    }
}

double largest(std::span<const double> v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
}
double largest_difference(std::span<const double> a, std::span<const double> b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

void run(const distributed::job& ranks, int throw_on_rank) {
    // share_of: every document of a batch to exactly one rank, contiguous, in rank order
    for (std::size_t count = 0; count <= 9; ++count)
        for (int size = 1; size <= 4; ++size) {
            std::size_t next = 0;
            for (int r = 0; r < size; ++r) {
                const auto s = distributed::share_of(count, r, size);
                const std::size_t expected = count / std::size_t(size) + (std::size_t(r) < count % std::size_t(size) ? 1 : 0);
                check(ranks, s.begin == next && s.size() == expected,
                      fmt::format("share_of({}, {}, {}) = [{}, {})", count, r, size, s.begin, s.end));
                next = s.end;
            }
            check(ranks, next == count, fmt::format("share_of over {} ranks covers {} of {} documents", size, next, count));
        }

    auto parallel = std::make_unique<net_type>(7, 0.3);
    auto alone = std::make_unique<net_type>(7, 0.3);   // the one-rank run of the whole batch
    const gflow::adam opt{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = 3 * steps};
    double worst_loss = 0, worst_gradient = 0;
    for (int s = 0; s < steps; ++s) {
        const auto docs = batch_of(s);
        if (s == 5 && ranks.rank() == throw_on_rank)
            throw std::runtime_error(fmt::format("a failure made on purpose at step {}", s));
        const double loss = distributed::loss_and_gradient(*parallel, ranks, std::span<const gflow::document>(docs));
        const double expected = alone->loss_and_gradient(std::span<const gflow::document>(docs));
        // The same rows' gradients, summed in another grouping (each rank its rows, then the ranks):
        // as in tests/model/batch_checks.hpp, sums of at most 4 B T terms per layer of the backward
        // pass, of numbers no larger than the largest component of the gradient (the largest
        // per-token loss, < 2 log V, for the loss).
        const int roundings = 4 * max_batch * T;
        const double g_bound = gflow::testing::rounding_error(roundings, largest(alone->gradients()));
        const double l_bound = gflow::testing::rounding_error(roundings, 2 * std::log(double(V)));
        const double dg = largest_difference(parallel->gradients(), alone->gradients());
        worst_loss = std::max(worst_loss, std::abs(loss - expected));
        worst_gradient = std::max(worst_gradient, dg / largest(alone->gradients()));
        check(ranks, std::abs(loss - expected) <= l_bound,
              fmt::format("step {}: loss {} over the ranks, {} alone (bound {:.3g})", s, loss, expected, l_bound));
        check(ranks, dg <= g_bound, fmt::format("step {}: gradients differ by {:.3g} (bound {:.3g})", s, dg, g_bound));
        parallel->apply_update(opt, s);
        alone->apply_update(opt, s);
        // every rank holds the same weights after every step, bit for bit
        const int differing = ranks.first_differing(distributed::checksum(parallel->parameters()));
        check(ranks, differing < 0, fmt::format("after step {}, rank {}'s weights differ from rank 0's", s + 1, differing));
    }
    // After 20 steps: the weights of the data-parallel run against the one-rank run, relative to
    // the largest weight. Adam divides each gradient by its own running size, so the gradients'
    // rounding differences (above) reach the weights as differences of a few ulps of the step, and
    // the forward passes of the next steps carry them on; the figure, 1e-12, leaves a
    // margin of some 10^3 above the ~1e-15 that such differences come to.
    const double relative = largest_difference(parallel->parameters(), alone->parameters()) / largest(alone->parameters());
    const bool bit_for_bit = std::ranges::equal(parallel->parameters(), alone->parameters());
    if (ranks.root())
        fmt::print("{} ranks against one, {} steps (f64): weights max |a - b| / max |b| = {:.3g} ({}); "
                   "largest loss difference {:.3g}, largest gradient difference {:.3g} of the largest component\n",
                   ranks.size(), steps, relative, bit_for_bit ? "bit for bit" : "not bit for bit", worst_loss, worst_gradient);
    check(ranks, relative <= 1e-12, fmt::format("after {} steps the weights differ by {:.3g} relative", steps, relative));
}

}  // namespace

int main(int argc, char** argv) {
    const distributed::job ranks(argc, argv);
    const int throw_on_rank = argc == 3 && std::string(argv[1]) == "--throw-on-rank" ? std::atoi(argv[2]) : -1;
    try {
        run(ranks, throw_on_rank);
    } catch (const std::exception& e) {
        ranks.abort({1, "test_ranks", e.what()});   // the other ranks wait in an allreduce
    }
    const double failed = ranks.sum(double(failures));
    if (ranks.root()) fmt::print("{}\n", failed == 0 ? "all checks passed" : fmt::format("{} check(s) failed", failed));
    return failed == 0 ? 0 : 1;
}
