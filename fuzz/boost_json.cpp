// Boost.JSON compiled into the safetensors fuzz target (instead of linking libboost_json), so
// that its parser is instrumented too: coverage feedback then guides the fuzzer through JSON.
#include <boost/json/src.hpp>
