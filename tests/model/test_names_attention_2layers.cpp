#define BOOST_TEST_MODULE model_names_attention_2layers
#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<2>(names::attention_mixer)
#include "model_checks.hpp"

BOOST_AUTO_TEST_CASE(two_layers_have_their_own_parameters) {
    static_assert(GFLOW_TEST_MODEL.parameter_count() == 4192 + 3072);
    const auto params = GFLOW_TEST_MODEL.parameters();
    BOOST_TEST(params[8].name == "layer1.attn_wq");
}
