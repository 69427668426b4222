#!/usr/bin/env bash
# Sets up the machine (packages), builds Portcullis and runs every test:
#   1. unit and integration tests (real PostgreSQL, psql, pgbench, libpq) under ctest, on a
#      Release build (what users build);
#   2. the same tests on a Debug build with AddressSanitizer and UndefinedBehaviorSanitizer;
#   3. a short run of every libFuzzer target (clang, RelWithDebInfo).
# Every build treats warnings as errors (-DPORTCULLIS_WERROR=ON).
# Safe to run again; each stage builds in its own folder (build-test, build-asan, build-fuzz).
#
#   scripts/test.sh                 everything
#   scripts/test.sh --quick         stage 1 only
# Environment: FUZZ_SECONDS (default 20) per fuzz target; SKIP_SETUP=1 to skip apt-get.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}

# Each stage says how long the one before it took, so that CI's log shows where its time goes.
STAGE_START=$SECONDS
say() {
  printf '\n==> %s (%ds since the last stage began, %ds in all)\n' "$*" \
    "$((SECONDS - STAGE_START))" "$SECONDS"
  STAGE_START=$SECONDS
}

if [ "${SKIP_SETUP:-0}" != 1 ]; then
  say "Installing packages (scripts/setup.sh)"
  scripts/setup.sh
fi

say "Building, Release (build-test)"
# Unity builds (here and in build-asan): CMake compiles each target's .cc files in batches of 8,
# so Boost.Asio, Beast, JSON, fmt, spdlog and gtest are parsed once per batch instead of once
# per file; compiling is most of CI's time. The fuzz build stays one file at a time, so that one
# build still compiles each file on its own and catches a missing #include.
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTCULLIS_WERROR=ON \
  -DPORTCULLIS_BENCH=OFF -DCMAKE_UNITY_BUILD=ON
cmake --build build-test -j "$JOBS"
say "Running the tests"
# One more test than cores: most of them wait on their servers and clients rather than compute.
# A test that fails is run once more before it fails the run (`--repeat until-pass:2`): a few
# integration tests race their servers on a loaded machine; ctest's log names every test that
# needed a second run, and docs/development.md lists those seen.
ctest --test-dir build-test -j "$((JOBS + 1))" --output-on-failure --timeout 900 \
  --repeat until-pass:2

[ "$QUICK" = 1 ] && exit 0

say "Building with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan)"
# -g1: line tables only, enough for the sanitizers' stack traces; a third of the object size
# of -g, so the test executables link faster.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPORTCULLIS_SANITIZE=ON \
  -DPORTCULLIS_WERROR=ON -DPORTCULLIS_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_UNITY_BUILD=ON
cmake --build build-asan -j "$JOBS"
say "Running the tests under the sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$((JOBS + 1))" --output-on-failure --timeout 1800 \
  --repeat until-pass:2

say "Building the fuzz targets (build-fuzz, clang)"
# RelWithDebInfo: optimised like a release, with line numbers in the stacks of a crash. Not a
# unity build (see build-test): each file compiles on its own here. With PORTCULLIS_FUZZ the
# tree holds only the fuzz targets and the libraries they link, so `all` builds nothing more.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPORTCULLIS_FUZZ=ON -DPORTCULLIS_WERROR=ON
cmake --build build-fuzz -j "$JOBS"
# One target: its seeds, dictionary and log; its exit status in build-fuzz/<target>.status.
fuzz_target() {
  local target=$1 name corpus status=0
  name=$(basename "$target")
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  # Committed seeds in fuzz/corpus/<target>/, a dictionary in fuzz/dict/<target>.dict.
  local seeds=() dict=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  [ -f "fuzz/dict/$name.dict" ] && dict=("-dict=fuzz/dict/$name.dict")
  "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "${dict[@]}" "$corpus" \
    "${seeds[@]}" > "build-fuzz/$name.log" 2>&1 || status=$?
  echo "$status" > "build-fuzz/$name.status"
}
# As many targets at once as there are jobs: each is single-threaded.
say "Fuzzing every target for ${FUZZ_SECONDS}s, $JOBS at a time"
for target in build-fuzz/fuzz/*_fuzz; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_target "$target" &
done
wait
failed=()
for target in build-fuzz/fuzz/*_fuzz; do
  name=$(basename "$target")
  printf '\n==> %s\n' "$name"
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus|==[0-9]+==|SUMMARY)' \
    "build-fuzz/$name.log" || true
  status=$(cat "build-fuzz/$name.status")
  if [ "$status" -ne 0 ]; then
    tail -n 60 "build-fuzz/$name.log"
    echo "fuzz target $name failed (exit $status)"
    failed+=("$name")
  fi
done
[ "${#failed[@]}" -eq 0 ] || { echo "failed fuzz targets: ${failed[*]}"; exit 1; }
say "All tests passed"
