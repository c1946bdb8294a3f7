// expression_step: the training step of the names and parens models with each mixer written as an
// expression (terms/expression_mixers.hpp) against the hand-written mixer, in one run,
// interleaved: median microseconds a step over chunks, and their ratio (issue #10's 1.2x bound).
//   expression_step [--data names.txt] [--chunks N] [--chunk-steps N]
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/bench/run.hpp>
#include <gflow/io/text_data.hpp>
#include <gflow/network.hpp>
#include <gflow/optim/adam.hpp>
#include <gflow/random.hpp>
#include <gflow/terms/expression_mixers.hpp>

#include "names_model.hpp"
#include "parens_model.hpp"

namespace {
using document = std::vector<int>;
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class S, class OldModel, class NewModel>
void compare(const char* what, const char* dtype, OldModel, NewModel, const std::vector<document>& docs, int chunks,
             int chunk) {
    gflow::network<OldModel, S> old_net(42);
    gflow::network<NewModel, S> new_net(42);
    const gflow::adam opt{.decay_steps = chunks * chunk};
    std::vector<double> old_us, new_us;
    double old_loss = 0, new_loss = 0;
    auto timed = [&](auto& net, int first, double& loss) {
        const auto start = std::chrono::steady_clock::now();
        loss = 0;
        for (int s = first; s < first + chunk; ++s) loss += double(net.train_step(docs[std::size_t(s) % docs.size()], opt, s));
        loss /= chunk;
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / chunk;
    };
    for (int c = 0; c < chunks; ++c) {
        old_us.push_back(timed(old_net, c * chunk, old_loss));
        new_us.push_back(timed(new_net, c * chunk, new_loss));
    }
    const double o = median(old_us), n = median(new_us);
    fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.3f} | {:.6f} | {:.6f} |\n", what, dtype, o, n, n / o, old_loss, new_loss);
}
}  // namespace

int main(int argc, char** argv) {
    std::string data;
    int chunks = 21, chunk = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--data")) data = argv[i + 1];
        else if (!std::strcmp(argv[i], "--chunks")) chunks = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--chunk-steps")) chunk = std::stoi(argv[i + 1]);
    }
    gflow::parallel::set_threads(1);
    const auto set = gflow::io::read_documents(gflow::bench::default_data_file("names.txt", data));
    gflow::bench::options o;
    o.order = "shuffle";
    const auto corpus = gflow::bench::make_corpus(set, gflow::io::vocabulary::from_documents(set), o);
    std::vector<document> paren_docs;
    gflow::rng gen(7);
    for (int d = 0; d < 500; ++d) {
        document doc{2};
        for (int t = 0; t < 62; ++t) doc.push_back(int(gen.uniform() * 2));
        doc.push_back(2);
        paren_docs.push_back(doc);
    }
    using namespace gflow::terms;
    constexpr auto names_window = offsets<1, 2, 4, 8, 12, 16>;
    constexpr auto parens_window = offsets<1, 2, 4, 8, 16>;
    fmt::print("| model | dtype | hand-written us/step | expression us/step | ratio | loss (hand) | loss (expr) |\n");
    fmt::print("|---|---|---|---|---|---|---|\n");
    auto both = [&]<class S>(const char* dtype) {
        compare<S>("names grassmann", dtype, names::model(grassmann<4>(names_window)),
                   names::model(grassmann_expression<4>(names_window)), corpus.docs, chunks, chunk);
        compare<S>("names attention", dtype, names::model(attention<4>), names::model(attention_expression<4>),
                   corpus.docs, chunks, chunk);
        compare<S>("parens grassmann", dtype, parens::model(grassmann<4>(parens_window)),
                   parens::model(grassmann_expression<4>(parens_window)), paren_docs, chunks, chunk / 4);
        compare<S>("parens attention", dtype, parens::model(attention<4>), parens::model(attention_expression<4>),
                   paren_docs, chunks, chunk / 4);
    };
    both.operator()<float>("f32");
    both.operator()<double>("f64");
}
