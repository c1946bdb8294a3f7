// The generated model pages show each run of adjacent elementwise terms that a chain fuses, and the
// activation memory it saves (the models of docs/generated/ have none, so their pages only say so).
#define BOOST_TEST_MODULE docs_model_page_fusion
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>

#include <gflow/terms/gelu.hpp>

#include "docs/model_page.hpp"

namespace {
using namespace gflow::terms;
using gflow::block, gflow::vocab, gflow::width;

// relu >> gelu inside a repeated residual body: one run per layer, two layers
constexpr auto fused_model = gflow::model<vocab<5>, block<4>, width<8>>(
    (token_embedding + position_embedding) >>
    gflow::repeat<2>(gflow::residual(rmsnorm >> linear<8, "A"> >> relu >> gelu >> linear<8, "B">)) >> lm_head);
using model_type = std::remove_cvref_t<decltype(fused_model)>;

std::string page() {
    return gdocs::model_page<model_type>({"fused", "fused_model", "", "test", "definition\n"});
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_CASE(the_page_shows_each_fused_run_and_what_it_saves) {
    using run = fused_elementwise_t<relu_t, gelu_t>;
    constexpr std::size_t saved = gflow::bind<run, model_type::config, 8>::saved;
    static_assert(saved == 2 * 4 * 8);   // one intermediate [T][8] and its gradient, T = 4
    const std::string text = page();
    BOOST_TEST(has(text, "relu >> gelu [one fused loop; saves 64 activation scalars]"));   // summary and schedules
    BOOST_TEST(has(text, "gelu(relu(x"));                                                  // the forward step
    BOOST_TEST(has(text, "this model has 2 such runs, which save 128 activation scalars (0.5 KiB f32) in all"));
    BOOST_TEST(has(text, "| not allocated: the intermediates of fused elementwise runs, and their gradients | 128 |"));
    BOOST_TEST(has(text, "saved in each of 2 layers"));
}
