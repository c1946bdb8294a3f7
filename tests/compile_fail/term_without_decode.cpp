// A user's mixer with no decode: refused where it is bound, naming the missing part.
#include <gflow/gflow.hpp>

struct no_decode_t : gflow::term_base {
    template <gflow::dims C, int W>
    struct impl : gflow::no_params {
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t act_size = 0, state_size = 0;
        static void summarize(std::vector<gflow::summary_row>&, int) {}
        template <class S> static void forward(const gflow::pass&, const S*, S*, const S*, S*) {}
        template <class S>
        static void backward(const gflow::pass&, const S*, S*, S*, const S*, const S*, const S*, S*) {}
    };
};

using namespace gflow::terms;
constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> residual(rmsnorm >> no_decode_t{}) >> lm_head);
int main() { return int(m.parameter_count()); }
