// The ranks of an MPI job (include/gflow/distributed.hpp): Open MPI's C API where Meson found MPI
// (GFLOW_MPI), one rank otherwise. The only file of gflow that includes mpi.h.
#include <gflow/distributed.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#ifndef GFLOW_MPI
#define GFLOW_MPI 0
#endif
#if GFLOW_MPI
// The C API only: Open MPI's and MPICH's deprecated C++ bindings would otherwise come with mpi.h.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace gflow::distributed {

namespace {
const job* current = nullptr;

void print(const failure& f, int rank) {
    if (rank >= 0) fmt::print(stderr, "{}: rank {}: {}\n", f.program, rank, f.cause);
    else fmt::print(stderr, "{}: {}\n", f.program, f.cause);
    std::fflush(stderr);
}

#if GFLOW_MPI
// Whether a launcher started this process as a rank: Open MPI's mpirun, or a PMI/PMIx launcher
// (MPICH's Hydra, Slurm's srun). A program run on its own does not start MPI: an Open MPI
// singleton would fork a daemon of its own at every start, for a job of one rank.
bool launched_as_rank() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
        if (std::getenv(name)) return true;
    return false;
}

template <class T>
MPI_Datatype mpi_type() {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else return MPI_UINT64_T;
}

// MPI counts are int: a buffer is summed in pieces of at most 2^30 elements.
template <class T>
void allreduce(T* values, std::size_t count, MPI_Op op) {
    constexpr std::size_t piece = std::size_t(1) << 30;
    for (std::size_t done = 0; done < count; done += piece)
        MPI_Allreduce(MPI_IN_PLACE, values + done, int(std::min(piece, count - done)), mpi_type<T>(), op, MPI_COMM_WORLD);
}
#endif
}  // namespace

bool built_with_mpi() { return GFLOW_MPI != 0; }

job::job(int& argc, char**& argv) {
#if GFLOW_MPI
    if (launched_as_rank()) {
        int provided = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        started_ = true;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
#else
    // Started by mpirun as one of several ranks, a build without MPI would run the whole job in
    // every rank, each printing and writing as if alone: it stops instead.
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
        if (const char* ranks = std::getenv(name); ranks && std::atoi(ranks) > 1) {
            const std::string program = argc > 0 && argv ? std::filesystem::path(argv[0]).filename().string() : "gflow";
            fmt::print(stderr, "{}: started as one of {} ranks, but built without MPI (-Dmpi=disabled, or no Open MPI "
                               "when configured)\n", program, ranks);
            std::exit(2);
        }
#endif
    current = this;
}

job::~job() {
#if GFLOW_MPI
    if (started_) MPI_Finalize();
#endif
    if (current == this) current = nullptr;
}

const job& world() {
    if (current) return *current;
    static const job alone;   // one rank, MPI not started
    return alone;
}

void job::sum(std::span<float> values) const {
#if GFLOW_MPI
    if (size_ > 1) allreduce(values.data(), values.size(), MPI_SUM);
#else
    (void)values;
#endif
}
void job::sum(std::span<double> values) const {
#if GFLOW_MPI
    if (size_ > 1) allreduce(values.data(), values.size(), MPI_SUM);
#else
    (void)values;
#endif
}
double job::sum(double value) const {
    sum(std::span<double>(&value, 1));
    return value;
}
void job::min(std::span<double> values) const {
#if GFLOW_MPI
    if (size_ > 1) allreduce(values.data(), values.size(), MPI_MIN);
#else
    (void)values;
#endif
}
void job::max(std::span<double> values) const {
#if GFLOW_MPI
    if (size_ > 1) allreduce(values.data(), values.size(), MPI_MAX);
#else
    (void)values;
#endif
}

int job::first_differing(std::uint64_t value) const {
#if GFLOW_MPI
    if (size_ > 1) {
        // Every step: the largest value and the largest complement (the smallest value) in one
        // allreduce of two numbers, allocating nothing; only when they differ, which rank.
        std::uint64_t extremes[2] = {value, ~value};
        MPI_Allreduce(MPI_IN_PLACE, extremes, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
        if (extremes[0] == ~extremes[1]) return -1;
        std::vector<std::uint64_t> all(static_cast<std::size_t>(size_));
        MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
        for (int r = 1; r < size_; ++r)
            if (all[std::size_t(r)] != all[0]) return r;
    }
#else
    (void)value;
#endif
    return -1;
}

bool job::same_as_root(std::uint64_t value) const {
    std::uint64_t root_value = value;
#if GFLOW_MPI
    if (size_ > 1) MPI_Bcast(&root_value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
#endif
    return root_value == value;
}

int job::agree(const failure& mine) const {
    std::vector<int> statuses(static_cast<std::size_t>(size_), mine.status);
#if GFLOW_MPI
    if (size_ > 1) MPI_Allgather(&mine.status, 1, MPI_INT, statuses.data(), 1, MPI_INT, MPI_COMM_WORLD);
#endif
    const auto first = std::find_if(statuses.begin(), statuses.end(), [](int s) { return s != 0; });
    if (first == statuses.end()) return 0;
    const bool every_rank = std::none_of(statuses.begin(), statuses.end(), [](int s) { return s == 0; });
    if (first - statuses.begin() == rank_) print(mine, every_rank ? -1 : rank_);
    return *first;
}

void job::abort(const failure& mine) const {
    print(mine, size_ > 1 ? rank_ : -1);
#if GFLOW_MPI
    if (started_) MPI_Abort(MPI_COMM_WORLD, mine.status != 0 ? mine.status : 1);
#endif
    std::exit(mine.status != 0 ? mine.status : 1);
}

}  // namespace gflow::distributed
