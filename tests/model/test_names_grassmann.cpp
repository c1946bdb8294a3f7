#define BOOST_TEST_MODULE model_names_grassmann
#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<1>(names::grassmann_mixer)
#include "model_checks.hpp"

BOOST_AUTO_TEST_CASE(parameters_as_in_spec) {
    constexpr auto m = GFLOW_TEST_MODEL;
    static_assert(m.parameter_count() == 3840);
    static_assert(gflow::mixer<decltype(names::grassmann_mixer), m.config, 16>);
    const std::vector<std::pair<std::string, std::pair<int, int>>> expected{
        {"wte", {27, 16}},          {"wpe", {16, 16}},          {"layer0.W_red", {4, 16}},
        {"layer0.W_plu", {16, 6}},  {"layer0.W_gate_h", {16, 16}}, {"layer0.W_gate_g", {16, 16}},
        {"layer0.mlp_fc1", {64, 16}}, {"layer0.mlp_fc2", {16, 64}}, {"lm_head", {27, 16}}};
    const auto params = m.parameters();
    BOOST_TEST_REQUIRE(params.size() == expected.size());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        BOOST_TEST(params[i].name == expected[i].first);
        BOOST_TEST(params[i].rows == expected[i].second.first);
        BOOST_TEST(params[i].cols == expected[i].second.second);
        BOOST_TEST(params[i].offset == offset);
        offset += std::size_t(params[i].rows) * params[i].cols;
    }
    BOOST_TEST(offset == 3840u);
}

BOOST_AUTO_TEST_CASE(decoding_state_is_the_last_max_window_reduced_vectors) {
    // 16 (max offset) x r = 4 scalars per layer, whatever the generated length
    static_assert(GFLOW_TEST_MODEL.decode_state_count() == 16 * 4);
}
