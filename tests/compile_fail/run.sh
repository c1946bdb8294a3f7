#!/usr/bin/env bash
# A must-not-compile test: compiling SOURCE must fail, and the compiler's first error must carry
# EXPECTED (the DSL's own words), so that the message a user sees is checked, not just the failure.
#   run.sh SOURCE EXPECTED COMPILER [FLAGS...]
set -u
source_file=$1; expected=$2; shift 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if "$@" -fsyntax-only "$source_file" >"$log" 2>&1; then
    echo "FAIL: $source_file compiled, but it must be rejected with: $expected"
    exit 1
fi
first_error=$(grep -m1 -E 'error' "$log")
if ! grep -q -F -- "$expected" <<<"$first_error"; then
    echo "FAIL: $source_file was rejected, but the first error does not say: $expected"
    echo "first error: $first_error"
    head -n 20 "$log"
    exit 1
fi
echo "ok: $first_error"
echo "lines of compiler output: $(wc -l <"$log")"
