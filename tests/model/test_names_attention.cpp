#define BOOST_TEST_MODULE model_names_attention
#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<1>(names::attention_mixer)
#include "model_checks.hpp"

BOOST_AUTO_TEST_CASE(parameters_as_in_spec) {
    constexpr auto m = GFLOW_TEST_MODEL;
    static_assert(m.parameter_count() == 4192);
    static_assert(gflow::mixer<decltype(names::attention_mixer), m.config, 16>);
    const std::vector<std::string> expected{"wte", "wpe", "layer0.attn_wq", "layer0.attn_wk",
                                            "layer0.attn_wv", "layer0.attn_wo", "layer0.mlp_fc1",
                                            "layer0.mlp_fc2", "lm_head"};
    std::vector<std::string> names;
    for (const auto& p : m.parameters()) names.push_back(p.name);
    BOOST_TEST(names == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(decoding_state_is_a_key_value_cache_of_the_block) {
    static_assert(GFLOW_TEST_MODEL.decode_state_count() == 2 * 16 * 16);
}
