#!/usr/bin/env bash
# Regenerates the generated documentation, from the code and from the benchmarks' own output:
#
#   docs/generated/names_grassmann.md, names_attention.md, paper_model.md
#                                 the model pages, from the models' types (model_pages)
#   docs/generated/asm_*.s, docs/generated/machine_code.md
#                                 the machine code of the hot parts (examples/docs/hot_parts.cpp,
#                                 compiled with the project's flags), disassembled and counted
#   docs/loss_curves_names.svg (.png), docs/loss_curves_parens.svg (.png)
#                                 training and evaluation loss of both mixers, from `--json` runs
#   docs/plucker.svg (.png), docs/scaling.png
#                                 the Plücker picture (visualize_plucker) and a PNG copy of the
#                                 scaling plot (docs/scaling.svg, from `build/examples/scaling --out docs`)
#
# The usual way to run it is `ninja -C build docs` (the Meson run target passes the programs).
# By hand, with a configured build directory:
#   bash scripts/docs.sh --build build [pages|asm|curves|pictures|all]
# Only the model pages are held to the code by a test (tests/docs): the machine code depends on
# the compiler and the CPU, the loss curves on the benchmark run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="" model_pages="" hot_parts="" names="" parens="" loss_curves="" plucker="" what=all
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --model-pages) model_pages=$2; shift 2 ;;
        --hot-parts) hot_parts=$2; shift 2 ;;
        --names) names=$2; shift 2 ;;
        --parens) parens=$2; shift 2 ;;
        --loss-curves) loss_curves=$2; shift 2 ;;
        --plucker) plucker=$2; shift 2 ;;
        pages|asm|curves|pictures|all) what=$1; shift ;;
        *) echo "docs.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
if [ -n "$build" ]; then   # by hand: build what is needed, find the programs in the build directory
    build=$(cd "$build" && pwd)
    targets=(examples/docs/model_pages)
    case $what in asm|all) targets+=(examples/docs/libgflow_hot_parts.a) ;; esac
    case $what in curves|all) targets+=(examples/docs/loss_curves examples/names) ;; esac
    case $what in pictures|all) targets+=(examples/teaching/visualize_plucker) ;; esac
    ninja -C "$build" "${targets[@]}" >/dev/null
    model_pages=${model_pages:-$build/examples/docs/model_pages}
    hot_parts=${hot_parts:-$build/examples/docs/libgflow_hot_parts.a}
    names=${names:-$build/examples/names}
    loss_curves=${loss_curves:-$build/examples/docs/loss_curves}
    plucker=${plucker:-$build/examples/teaching/visualize_plucker}
    if [ -z "$parens" ] && [ -x "$build/examples/parens" ]; then parens=$build/examples/parens; fi
fi
build=${build:-${MESON_BUILD_ROOT:-$(pwd)}}   # a Meson run target says where the build is
gen=$root/docs/generated
mkdir -p "$gen"

# ---- the model pages ---------------------------------------------------------------------------
pages() {
    "$model_pages" --out "$gen"
}

# ---- the machine code --------------------------------------------------------------------------
functions=(gflow_grassmann_forward gflow_grassmann_backward gflow_gate_and_mix_forward
           gflow_gate_and_mix_backward gflow_attention_forward gflow_attention_backward)

# The disassembly of one symbol (mangled name), Intel syntax, with relocations (which name the
# targets of calls in an object file). objdump also prints relocations of the section that lie
# before the function; only those at or after the instruction they follow are kept.
disassemble() {
    objdump -dr --no-show-raw-insn -M intel --disassemble="$1" "$hot_parts" |
        awk -v sym="<$1>:" '
            function hex(s,   i, n, c) { n = 0; s = tolower(s)
                for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); if (c == 0) break; n = n * 16 + c - 1 }
                return n }
            index($0, sym) { on = 1; print; next }
            !on { next }
            /^ +[0-9a-f]+:\t/ { split($1, f, ":"); last = hex(f[1]); print; next }
            /^\t\t\t[0-9a-f]+: R_/ { split($1, f, ":"); if (last != "" && hex(f[1]) >= last) print }'
}

# The call targets of a disassembly (calls and tail jumps through a relocation), one a line.
call_targets() {
    awk '/^ +[0-9a-f]+:\t(call|jmp) / { pending = ($2 ~ /call/ ? "call" : "jmp"); direct = $0; next }
         pending != "" && /R_X86_64_(PLT32|PC32)/ { t = $3; sub(/-0x[0-9a-f]+$/, "", t); print t; pending = ""; next }
         { if (pending == "call" && match(direct, /<[^>+]+>/)) print substr(direct, RSTART + 1, RLENGTH - 2); pending = "" }'
}

# A function's code and, after it, that of every function of this object it calls (which the
# compiler chose not to inline), so that each asm_*.s file holds all the code of one hot part.
disassemble_with_callees() {
    local seen=" $1 " queue=("$1") sym text defined
    # the object's symbols, listed once: `nm | grep -q` in the loop lost callees at random (grep -q
    # exits at its first match, nm dies of SIGPIPE, and under pipefail the test reads as false)
    defined=$(nm --defined-only "$hot_parts" 2>/dev/null | awk '{print $3}')
    while [ ${#queue[@]} -gt 0 ]; do
        sym=${queue[0]}; queue=("${queue[@]:1}")
        text=$(disassemble "$sym")
        printf '%s\n\n' "$text"
        while read -r callee; do
            [ -z "$callee" ] && continue
            case "$seen" in *" $callee "*) continue ;; esac
            if grep -qxF -- "$callee" <<< "$defined"; then
                seen="$seen$callee "; queue+=("$callee")
            fi
        done < <(printf '%s\n' "$text" | call_targets | sort -u)
    done
}

count() { grep -cE "$1" "$2" || true; }

asm() {
    [ -f "$hot_parts" ] || { echo "docs.sh: $hot_parts is missing" >&2; exit 1; }
    local cxx flags march cpu compiler
    # The exact command that compiled hot_parts.cpp, from the build's compilation database.
    flags=$(python3 - "$build/compile_commands.json" <<'EOF'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"].endswith("examples/docs/hot_parts.cpp"):
        words = shlex.split(entry["command"])
        keep = [w for w in words[1:] if w.startswith(("-O", "-m", "-f", "-std", "-g"))
                and not w.startswith("-fdiagnostics")]
        print(words[0], " ".join(keep))
        break
EOF
)
    cxx=${flags%% *}; flags=${flags#* }
    compiler=$("$cxx" --version | sed -n 1p)
    march=$("$cxx" -march=native -Q --help=target 2>/dev/null | awk '$1 == "-march=" && !m { m = $2 } END { print m }')
    cpu=$(awk -F': ' '/^model name/ && !m { m = $2 } END { print m }' /proc/cpuinfo 2>/dev/null || echo unknown)

    local page=$gen/machine_code.md rows="" notes=""
    rm -f "$gen"/asm_*.s
    for fn in "${functions[@]}"; do
        local name=${fn#gflow_} file raw
        file=$gen/asm_$name.s
        raw=$(disassemble_with_callees "$fn")
        {
            echo "# $fn: examples/docs/hot_parts.cpp compiled with"
            echo "#   $compiler: $flags"
            echo "#   (-march=native is $march on this machine: $cpu)"
            echo "# objdump -dr --no-show-raw-insn -M intel, demangled; the functions it calls follow it."
            echo "# Generated by scripts/docs.sh (ninja -C build docs): do not edit."
            echo
            printf '%s\n' "$raw" | c++filt
        } > "$file"
        local insns zmm ymm xmm packed scalar sqrts calls targets allocs
        insns=$(count '^ +[0-9a-f]+:'$'\t' "$file")
        zmm=$(count 'zmm[0-9]' "$file")
        ymm=$(count 'ymm[0-9]' "$file")
        xmm=$(count 'xmm[0-9]' "$file")
        packed=$(count $'\t''v?(add|sub|mul|div|sqrt|max|min|fn?m(add|sub)[0-9]*)p[sd] ' "$file")
        scalar=$(count $'\t''v?(add|sub|mul|div|sqrt|max|min|fn?m(add|sub)[0-9]*)s[sd] ' "$file")
        sqrts=$(count $'\t''v?sqrt[ps][sd] ' "$file")
        calls=$(printf '%s\n' "$raw" | call_targets | wc -l)
        targets=$(printf '%s\n' "$raw" | call_targets | c++filt | sort | uniq -c | sort -rn |
                  awk '{ n = $1; $1 = ""; sub(/^ /, ""); sub(/\(.*/, ""); sub(/^void /, ""); printf "%s`%s` × %d", (NR > 1 ? ", " : ""), $0, n }')
        allocs=$(printf '%s\n' "$raw" | call_targets | grep -cE '^(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|_Znw|_Zna|_Zdl|_Zda)' || true)
        rows+="| [\`$fn\`](asm_$name.s) | $insns | $zmm | $ymm | $xmm | $packed | $scalar | $sqrts | $calls | ${targets:-none} | $allocs |"$'\n'
    done

    {
        echo "<!-- Generated by scripts/docs.sh (ninja -C build docs) from an optimised build: do not edit. It"
        echo "     depends on the compiler and the CPU, so no test compares it with the committed copy. -->"
        echo "# The machine code of the hot parts"
        echo
        echo "What the compiler makes of gflow's terms. [\`examples/docs/hot_parts.cpp\`](../../examples/docs/hot_parts.cpp)"
        echo "defines one out-of-line function per hot part, each a single call into the library, instantiated"
        echo "for \`float\` at the names models' sizes (\`dims{27, 16, 16}\`, width 16):"
        echo
        echo "- \`gflow_grassmann_forward\`, \`gflow_grassmann_backward\`: \`bind<grassmann_t<4, 1, 2, 4, 8, 12, 16>,"
        echo "  dims{27, 16, 16}, 16>::forward<float>\` and \`backward<float>\`: W_red, the fused Plücker pass"
        echo "  (coordinates, normalisation, mean per position), W_plu, the gate's matrices, the gate and mix;"
        echo "- \`gflow_gate_and_mix_forward\`, \`gflow_gate_and_mix_backward\`: the gate and mix alone,"
        echo "  \`kernels::map_forward\` / \`map_backward<detail::gate_sum_and_mix, 4>\` (the backward on dual numbers with 4 tangents);"
        echo "- \`gflow_attention_forward\`, \`gflow_attention_backward\`: \`attention_t<4>\` at the same sizes."
        echo
        echo "Compiled by $compiler with"
        echo
        echo "    $flags"
        echo
        echo "(the project's flags; \`-march=native\` is \`$march\` on the machine that generated this page: $cpu)."
        echo "Each \`asm_*.s\` file is \`objdump -dr --no-show-raw-insn -M intel\` of one function, demangled, followed"
        echo "by every function of the object that it calls (the ones the compiler did not inline)."
        echo
        echo "## The counts"
        echo
        echo "Computed by the script from the disassembly, per function (callees included):"
        echo
        echo "| function | instructions | lines with zmm | ymm | xmm | packed arithmetic | scalar arithmetic | square roots | call sites | call targets | allocations |"
        echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"
        printf '%s' "$rows"
        echo
        echo "*Packed arithmetic*: \`add\`, \`sub\`, \`mul\`, \`div\`, \`sqrt\`, \`max\`, \`min\` and the fused"
        echo "multiply-adds on \`ps\`/\`pd\` (several floats per instruction); *scalar*: the same on \`ss\`/\`sd\` (one)."
        echo "*Square roots*: \`sqrtss\`/\`sqrtps\` (and \`sd\`/\`pd\`) instructions, inline."
        echo "*Call sites*: \`call\` instructions and tail \`jmp\`s to another function (in the code, not at run time:"
        echo "a call in a loop is one site). *Allocations*: calls to \`malloc\`,"
        echo "\`free\`, \`operator new\`, \`operator delete\` and their kin."
        echo
        echo "## What to look for"
        echo
        echo "- **Vector instructions.** \`ymm\` registers hold 8 floats, \`zmm\` 16; \`xmm\` holds 4, but"
        echo "  scalar code (\`vmulss\`, \`vaddss\`) also uses \`xmm\`, so the packed and scalar columns are the"
        echo "  better measure. The matrix products are \`kernels::matvec_rows\` and \`matvec_rows_backward\`. At"
        echo "  these sizes the forward (\`kernels::detail::small_forward\`, from 4 rows on) copies W transposed"
        echo "  to the stack and forms a row's outputs as whole vectors by broadcast multiply-adds, with no"
        echo "  horizontal sum (one row alone, as in decoding, keeps the dot products of \`kernels::dot\`); the"
        echo "  backward's \`dx += g W\` and \`dW += g x\` are two passes of the same kind: look for \`vfmadd...ps\`."
        echo "- **Calls.** The terms, kernels and loops of a hot part are inlined into its function; what"
        echo "  remains as a call is in the table. The exponential of the gate's sigmoid and of the softmax is"
        echo "  \`gflow::vexp\` (core/exp.hpp), inlined and vectorised, not a call to libm's \`expf\`. The"
        echo "  \`omp_*\` and \`GOMP_parallel\` calls are the thread checks and parallel loops of core/parallel.hpp,"
        echo "  and \`gflow::blas::gemm\` the products handed to OpenBLAS (core/blas.hpp); at these sizes both stay"
        echo "  on the serial path at run time. \`memset\` is \`kernels::zero\` on a run-time length (the"
        echo "  gradient buffers each backward zeroes, per the gradient convention). A call into gflow's own"
        echo "  code is a helper the compiler chose to keep out of line (it appears after its caller in the"
        echo "  \`.s\` file). The square root of the Plücker normalisation is an instruction (the square-roots"
        echo "  column), not a call: with \`-fno-math-errno\`, \`sqrtf\` needs no \`errno\`. (Attention's 1/√D is"
        echo "  a constant: D is known at compile time.)"
        echo "- **The Plücker pass** (\`gflow_grassmann_forward\`): with r = 4 there are 6 coordinates per"
        echo "  offset, fewer than a vector's lanes, so this part is scalar or short-vector code. Find it by its"
        echo "  square root: \`vsqrtss\`, then \`vdivss\`, the normalisation 1/√(|p|² + 1e-8) computed once per"
        echo "  offset and saved for the backward. The loop over the offsets reads the window from"
        echo "  \`grassmann_t<...>::window\`, a \`constexpr\` array."
        echo "- **No allocation.** The allocations column counts every call to an allocation function: all"
        echo "  memory a pass touches is the network's arenas, reached by compile-time offsets."
        echo
        echo "Regenerate with \`ninja -C build docs\` (or \`bash scripts/docs.sh --build build asm\`)."
    } > "$page"
    echo "wrote $page and ${#functions[@]} asm_*.s files"
}

# ---- the loss curves ---------------------------------------------------------------------------
curves() {
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    "$names" --mixer both --json > "$tmp/names.jsonl"
    "$loss_curves" --title "names: training and evaluation loss (benchmark 1, docs/benchmarks.md)" \
        --command "names --mixer both --json" --out "$root/docs/loss_curves_names.svg" "$tmp/names.jsonl"
    if [ -n "$parens" ] && [ -x "$parens" ] && "$parens" --mixer both --json > "$tmp/parens.jsonl" 2> "$tmp/parens.err"; then
        "$loss_curves" --title "parens: training and evaluation loss (benchmark 2, docs/benchmarks.md)" \
            --command "parens --mixer both --json" --out "$root/docs/loss_curves_parens.svg" "$tmp/parens.jsonl"
    else
        echo "docs.sh: the parens program is not built or failed; docs/loss_curves_parens.svg is left as it is"
    fi
    if command -v rsvg-convert >/dev/null; then
        for svg in "$root"/docs/loss_curves_*.svg; do
            rsvg-convert -w 1200 "$svg" -o "${svg%.svg}.png"
        done
    else
        echo "docs.sh: rsvg-convert is not installed (apt-get install librsvg2-bin); no PNG copies"
    fi
}

# ---- the pictures ------------------------------------------------------------------------------
# visualize_plucker writes the SVG, and the PNG beside it where rsvg-convert is installed.
pictures() {
    if [ -n "$plucker" ] && [ -x "$plucker" ]; then
        "$plucker" "$root/docs/plucker.svg"
    else
        echo "docs.sh: visualize_plucker is not built; docs/plucker.svg is left as it is"
    fi
    if command -v rsvg-convert >/dev/null; then
        rsvg-convert "$root/docs/scaling.svg" -o "$root/docs/scaling.png"   # at its own size
    else
        echo "docs.sh: rsvg-convert is not installed (apt-get install librsvg2-bin); no docs/scaling.png"
    fi
}

case $what in
    pages) pages ;;
    asm) asm ;;
    curves) curves ;;
    pictures) pictures ;;
    all) pages; asm; curves; pictures ;;
esac
