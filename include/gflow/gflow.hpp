// gflow/gflow.hpp: everything a model definition needs.
#pragma once
#include <gflow/checkpoint.hpp>
#include <gflow/core/dims.hpp>
#include <gflow/core/dual.hpp>
#include <gflow/core/term.hpp>
#include <gflow/model.hpp>
#include <gflow/network.hpp>
#include <gflow/optim/adam.hpp>
#include <gflow/random.hpp>
#include <gflow/train.hpp>
#include <gflow/terms/attention.hpp>
#include <gflow/terms/chain.hpp>
#include <gflow/terms/elementwise.hpp>
#include <gflow/terms/embedding.hpp>
#include <gflow/terms/ffn.hpp>
#include <gflow/terms/grassmann.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/repeat.hpp>
#include <gflow/terms/residual.hpp>
#include <gflow/terms/rmsnorm.hpp>
#include <gflow/terms/stack.hpp>
#include <gflow/terms/sum.hpp>

namespace gflow::terms {
// The combinators live in namespace gflow; a model definition sees them through terms.
using gflow::vocab, gflow::block, gflow::width, gflow::batch, gflow::residual, gflow::repeat, gflow::layers, gflow::schedule;
}  // namespace gflow::terms
