#define BOOST_TEST_MODULE model_batch_attention
#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<2>(names::attention_mixer)
#include "batch_checks.hpp"
