// The model definitions the docs show (examples/docs/definitions.hpp, printed by paper_model and
// the generated pages) are verbatim excerpts of the files that define the models.
#define BOOST_TEST_MODULE docs_definitions
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "docs/definitions.hpp"

namespace {
std::string read_source(std::string_view path) {
    std::ifstream in(std::string(GFLOW_SOURCE_ROOT) + "/" + std::string(path), std::ios::binary);
    BOOST_TEST_REQUIRE(bool(in), "cannot read " << path);
    return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_names_model_definition_is_the_files) {
    BOOST_TEST(read_source(gdocs::names_model_path).find(gdocs::names_model_source) != std::string::npos,
               gdocs::names_model_path << " no longer contains the text of gdocs::names_model_source");
}

BOOST_AUTO_TEST_CASE(the_paper_model_definition_is_the_files) {
    BOOST_TEST(read_source(gdocs::paper_model_path).find(gdocs::paper_model_source) != std::string::npos,
               gdocs::paper_model_path << " no longer contains the text of gdocs::paper_model_source");
}
