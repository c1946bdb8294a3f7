// The operations a training step is counted as (core/term.hpp's flop_count, model_t::flops): the
// names models' counts written out by hand from their products, for a full block and for a short
// document (where the Grassmann pairs that do not exist and attention's shorter rows count less);
// a batch's count is the sum over its documents; a term without a count counts as none.
#define BOOST_TEST_MODULE model_flops
#include <boost/test/unit_test.hpp>

#include "names_model.hpp"

namespace {
constexpr long d = 16, V = 27, r = 4, P = r * (r - 1) / 2, hidden = 4 * d;

// Forward operations outside the mixer: the feed-forward (d -> 4d -> d) and the head (d -> V).
constexpr double shared_forward(long L) { return 2.0 * L * (d * hidden + hidden * d) + 2.0 * L * d * V; }

constexpr double grassmann_forward(long L) {
    double pairs = 0;
    for (long delta : {1, 2, 4, 8, 12, 16}) pairs += double(std::max(0L, L - delta));
    return 2.0 * L * d * r             // W_red
           + 3.0 * pairs * P           // Plücker coordinates of the pairs that exist
           + 2.0 * L * P * d           // W_plu
           + 2 * 2.0 * L * d * d;      // the two gates
}
constexpr double attention_forward(long L) {
    return 4 * 2.0 * L * d * d                    // Wq, Wk, Wv, Wo
           + 2 * 2.0 * d * double(L * (L + 1) / 2);   // scores and weighted sums over the t + 1 keys
}

struct no_count : gflow::term_base {};   // a bound term with no flops(): counts as none
}  // namespace

BOOST_AUTO_TEST_CASE(grassmann_model_counts_its_products) {
    using M = decltype(names::model(names::grassmann_mixer));
    for (long L : {16L, 5L, 1L}) {
        const gflow::flop_count f = M::flops(L);
        BOOST_TEST(f.forward == shared_forward(L) + grassmann_forward(L));
        BOOST_TEST(f.backward == 2 * f.forward);
        BOOST_TEST(f.total() == 3 * f.forward);
    }
    // Two layers: twice the layer (mixer and feed-forward), once the head.
    using M2 = decltype(names::model<2>(names::grassmann_mixer));
    const double ffn = 2.0 * 16 * (d * hidden + hidden * d);
    BOOST_TEST(M2::flops(16).forward == shared_forward(16) + grassmann_forward(16) + grassmann_forward(16) + ffn);
}

BOOST_AUTO_TEST_CASE(attention_model_counts_its_products) {
    using M = decltype(names::model(names::attention_mixer));
    for (long L : {16L, 5L, 1L}) BOOST_TEST(M::flops(L).forward == shared_forward(L) + attention_forward(L));
    // A batch of documents is the sum of their counts; batching changes nothing per document.
    using B = decltype(gflow::with_batch<3>(names::model(names::attention_mixer)));
    BOOST_TEST(B::flops(16).forward == M::flops(16).forward);
}

BOOST_AUTO_TEST_CASE(a_term_without_a_count_counts_as_none) {
    BOOST_TEST(gflow::flops_of<no_count>(16).total() == 0);
    BOOST_TEST(gflow::product_flops(3, 4, 5).forward == 120);
    BOOST_TEST(gflow::product_flops(3, 4, 5).backward == 240);
}
