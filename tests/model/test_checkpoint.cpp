// Checkpoints: a round trip is bit for bit (F32 and F64), names and shapes are those of
// docs/benchmarks.md#parameter-names, and
// strict loading refuses a missing, extra or misshapen tensor and another model's file.
#define BOOST_TEST_MODULE model_checkpoint
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

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

BOOST_AUTO_TEST_CASE(another_models_file_is_refused_in_one_short_line) {
    auto attention = gflow::instantiate<float>(attention_model, 1);
    const std::string file = tmp("attention.safetensors");
    gflow::save_checkpoint(attention, file);
    auto grassmann = gflow::instantiate<float>(grassmann_model, 1);
    try {
        gflow::load_checkpoint(grassmann, file);
        BOOST_FAIL("loaded an attention checkpoint into a Grassmann model");
    } catch (const gflow::input_error& e) {
        const std::string message = e.what();
        const std::string said = message.substr(file.size());   // the path, then this
        BOOST_TEST(message.starts_with(file));
        BOOST_TEST(said == ": tensor 'layer0.W_red' is missing (the model needs [4, 16]), and 7 more differences");
        BOOST_TEST(said.size() < 120u);
    }
}

// The signature is the parameter table (names and shapes), not the display labels: a model
// written with repeat<N> and the same model written with layers(...) read each other's files.
namespace {
using namespace gflow::terms;
constexpr auto names_layer = residual(rmsnorm >> names::grassmann_mixer) >> residual(rmsnorm >> ffn<4>(relu));
constexpr auto repeated = names::model<2>(names::grassmann_mixer);
constexpr auto stacked = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> rmsnorm >> layers(names_layer, names_layer) >> lm_head);
static_assert(!std::is_same_v<decltype(repeated), decltype(stacked)>);

template <class From, class To>
void moves(From from_model, To to_model, const std::string& file) {
    auto from = gflow::instantiate<double>(from_model, 1);
    gflow::save_checkpoint(from, file);
    auto to = gflow::instantiate<double>(to_model, 2);
    gflow::load_checkpoint(to, file);
    BOOST_TEST(std::equal(from.parameters().begin(), from.parameters().end(), to.parameters().begin()));
    const std::vector<int> doc{26, 4, 12, 12, 0, 26};
    BOOST_TEST(from.loss(doc) == to.loss(doc));
}
}  // namespace

BOOST_AUTO_TEST_CASE(repeat_and_layers_read_each_others_files) {
    BOOST_TEST(repeated.signature() == stacked.signature());
    BOOST_TEST(repeated.description() != stacked.description());   // the labels differ, the table does not
    BOOST_TEST(repeated.signature().find("layer1.W_red[4,16]") != std::string::npos, repeated.signature());
    moves(repeated, stacked, tmp("repeated.safetensors"));
    moves(stacked, repeated, tmp("stacked.safetensors"));
}

// --save's files: the weights alone (what a strict loader takes), and the training state (Adam's
// moments and the step) in a file of its own, beside the weights by convention.
BOOST_AUTO_TEST_CASE(the_training_state_is_a_file_of_its_own) {
    BOOST_TEST(gflow::training_state_path("run/model.safetensors") == "run/model.train.safetensors");
    BOOST_TEST(gflow::training_state_path("run/model") == "run/model.train.safetensors");

    auto a = gflow::instantiate<float>(grassmann_model, 1);
    const gflow::adam opt{.decay_steps = 10};
    const std::vector<int> doc{26, 4, 12, 12, 0, 26};
    for (int s = 0; s < 5; ++s) a.train_step(doc, opt, s);
    const std::string weights = tmp("state_w.safetensors"), state = gflow::training_state_path(weights);
    gflow::save_checkpoint(a, weights);
    gflow::save_training_state(a, state, 5);

    const auto w = gflow::io::read_safetensors(weights);
    BOOST_TEST(w.tensors.size() == 9u);   // exactly the parameters
    BOOST_TEST(w.metadata.count(gflow::step_key) == 0u);
    const auto t = gflow::io::read_safetensors(state);
    BOOST_TEST(t.tensors.size() == 18u);   // the two moments, no weights
    for (const auto& tensor : t.tensors) BOOST_TEST(tensor.name.starts_with("optimizer."), tensor.name);
    BOOST_TEST(t.metadata.at(gflow::step_key) == "5");

    // resuming: the weights, then the training state; both continue bit for bit
    auto b = gflow::instantiate<float>(grassmann_model, 2);
    gflow::load_checkpoint(b, weights);
    BOOST_TEST(gflow::load_training_state(b, state) == 5);
    for (int s = 5; s < 10; ++s) {
        a.train_step(doc, opt, s);
        b.train_step(doc, opt, s);
    }
    BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));

    // each file where the other is expected: one line that says what it is
    try {
        gflow::load_checkpoint(b, state);
        BOOST_FAIL("loaded a training state as weights");
    } catch (const gflow::input_error& e) {
        const std::string message = e.what();
        BOOST_TEST(message == state + ": a training state (Adam's moments at step 5), not weights: the weights are state_w.safetensors beside it");
    }
    try {
        gflow::load_training_state(b, weights);
        BOOST_FAIL("loaded weights as a training state");
    } catch (const gflow::input_error& e) {
        BOOST_TEST(std::string(e.what()) == weights + ": not a training state (no 'gflow.step' in its metadata)");
    }
}
