#define BOOST_TEST_MODULE model_batch_grassmann
#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<2>(names::grassmann_mixer)
#include "batch_checks.hpp"
