// Checkpoints: a round trip is bit for bit (F32 and F64), names and shapes are SPEC's, and
// strict loading refuses a missing, extra or misshapen tensor and another model's file.
#define BOOST_TEST_MODULE model_checkpoint
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "names_model.hpp"

namespace {
std::string tmp(const std::string& name) {
    const char* dir = std::getenv("GFLOW_TEST_TMP");
    return (std::filesystem::path(dir ? dir : ".") / name).string();
}
constexpr auto grassmann_model = names::model<1>(names::grassmann_mixer);
constexpr auto attention_model = names::model<1>(names::attention_mixer);

template <class S>
void round_trip(const std::string& file) {
    auto a = gflow::instantiate<S>(grassmann_model, 1);
    const gflow::adam opt{.decay_steps = 10};
    const std::vector<int> doc{26, 4, 12, 12, 0, 26};
    for (int s = 0; s < 10; ++s) a.train_step(doc, opt, s);
    gflow::save_checkpoint(a, file, {{"note", "round trip"}});
    auto b = gflow::instantiate<S>(grassmann_model, 2);
    const auto metadata = gflow::load_checkpoint(b, file);
    BOOST_TEST(metadata.at("note") == "round trip");
    BOOST_TEST(metadata.at(gflow::signature_key) == grassmann_model.signature());
    BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    BOOST_TEST(a.loss(doc) == b.loss(doc));
}
}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_is_bit_for_bit) {
    round_trip<float>(tmp("ckpt_f32.safetensors"));
    round_trip<double>(tmp("ckpt_f64.safetensors"));
}

BOOST_AUTO_TEST_CASE(tensors_are_named_and_shaped_as_in_spec) {
    auto net = gflow::instantiate<float>(grassmann_model, 1);
    gflow::save_checkpoint(net, tmp("names.safetensors"));
    const auto file = gflow::io::read_safetensors(tmp("names.safetensors"));
    BOOST_TEST(file.tensors.size() == 9u);
    const auto* w_red = file.find("layer0.W_red");
    BOOST_TEST_REQUIRE(w_red != nullptr);
    BOOST_TEST((w_red->shape == std::vector<std::size_t>{4, 16}));
    BOOST_TEST((w_red->type == gflow::io::dtype::f32));
    const auto p = net.parameter("layer0.W_red");
    for (std::size_t i = 0; i < p.size(); ++i) BOOST_TEST(float(w_red->values[i]) == p[i]);
}

namespace {
// Writes the grassmann model's tensors, edited by `edit`, without gflow's metadata (as another
// tool would), and returns the loading error's message.
template <class Edit>
std::string load_error(const std::string& name, Edit edit) {
    auto net = gflow::instantiate<double>(grassmann_model, 1);
    auto views = gflow::named_tensors(net.parameter_table(), net.parameters().data());
    edit(views);
    const std::string file = tmp(name);
    gflow::io::write_safetensors(file, views, {});
    auto target = gflow::instantiate<double>(grassmann_model, 2);
    const std::vector<double> before(target.parameters().begin(), target.parameters().end());
    try {
        gflow::load_checkpoint(target, file);
    } catch (const gflow::input_error& e) {
        // nothing is changed when the file does not fit
        BOOST_TEST(std::equal(before.begin(), before.end(), target.parameters().begin()));
        return e.what();
    }
    return "(loaded)";
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_file_from_another_tool_loads_when_everything_fits) {
    BOOST_TEST(load_error("plain.safetensors", [](auto&) {}) == "(loaded)");
}

BOOST_AUTO_TEST_CASE(strict_loading_names_the_tensor_and_the_problem) {
    const std::string missing = load_error("missing.safetensors", [](auto& v) { v.erase(v.begin() + 2); });
    BOOST_TEST(missing.find("'layer0.W_red' is missing") != std::string::npos, missing);
    BOOST_TEST(missing.find("missing.safetensors") != std::string::npos, missing);

    const std::string extra = load_error("extra.safetensors", [](auto& v) {
        v.push_back({"layer1.W_red", {2, 2}, v[0].data, gflow::io::dtype::f64});
    });
    BOOST_TEST(extra.find("'layer1.W_red' is not a parameter of this model") != std::string::npos, extra);

    const std::string shape = load_error("shape.safetensors", [](auto& v) { v[2].shape = {16, 4}; });
    BOOST_TEST(shape.find("'layer0.W_red' has shape [16, 4], the model needs [4, 16]") != std::string::npos, shape);
}

BOOST_AUTO_TEST_CASE(another_models_file_is_refused_naming_both) {
    auto attention = gflow::instantiate<float>(attention_model, 1);
    gflow::save_checkpoint(attention, tmp("attention.safetensors"));
    auto grassmann = gflow::instantiate<float>(grassmann_model, 1);
    try {
        gflow::load_checkpoint(grassmann, tmp("attention.safetensors"));
        BOOST_FAIL("loaded an attention checkpoint into a Grassmann model");
    } catch (const gflow::input_error& e) {
        const std::string message = e.what();
        BOOST_TEST(message.find("attention<4 heads") != std::string::npos, message);
        BOOST_TEST(message.find("grassmann<r=4>") != std::string::npos, message);
    }
}
