#!/usr/bin/env bash
# Fuzzing with cargo-fuzz/libFuzzer on the stable toolchain (fuzz/README.md says why it works
# and what each target checks).
#
#   scripts/fuzz.sh smoke [SECONDS]     every target for SECONDS (default 60) each; the test
#                                       command's bounded run. Exits non-zero on any crash.
#   scripts/fuzz.sh long [SECONDS]      the long run: every target for SECONDS (default 600)
#   scripts/fuzz.sh run TARGET [SECONDS] [-- LIBFUZZER_FLAGS...]   one target
#   scripts/fuzz.sh repro TARGET FILE   run one saved input (e.g. fuzz/artifacts/...) again
#   scripts/fuzz.sh install | build | list
#
# Env: FUZZ_TARGETS="status_json response" (default: every target of `cargo fuzz list`);
# FUZZ_SANITIZER=none|address (default none, plain stable; address needs -Zsanitizer, so
# RUSTC_BOOTSTRAP=1 for that build only, in its own target dir fuzz/target/address).
# Installs cargo-fuzz (pinned) under target/tools; libfuzzer-sys builds libFuzzer (needs g++).
# Each run reads the committed seeds (fuzz/seeds/<target>, core/tests/fixtures for
# status_json) and grows the git-ignored fuzz/corpus/<target>; fuzz builds go to fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD FUZZ=$PWD/fuzz TOOLS=$PWD/target/tools
export PATH=$TOOLS/bin:$PATH
SANITIZER=${FUZZ_SANITIZER:-none}
san=(-s "$SANITIZER")
[[ $SANITIZER == none ]] || { san+=(--target-dir "$FUZZ/target/$SANITIZER"); export RUSTC_BOOTSTRAP=1; }
declare -A SEEDS=([status_json]=$ROOT/core/tests/fixtures)
declare -A FLAGS=([status_json]=-max_len=8192 [response]=-max_len=8192 [database_id]=-max_len=256)

install() {
    [[ $("$TOOLS/bin/cargo-fuzz" --version 2>/dev/null) == "cargo-fuzz 0.13.2" ]] && return
    echo "fuzz: installing cargo-fuzz 0.13.2 under target/tools" >&2
    cargo install --locked --quiet --force --root "$TOOLS" cargo-fuzz --version 0.13.2
}

build() {
    command -v g++ >/dev/null || command -v clang++ >/dev/null ||
        { echo "fuzz: libfuzzer-sys compiles libFuzzer (C++): install g++" >&2; exit 2; }
    # --locked: fails if fuzz/Cargo.lock is out of date, so a build never picks other versions.
    cargo fetch --locked --quiet --manifest-path "$FUZZ/Cargo.toml"
    mkdir -p "$FUZZ/logs"
    (cd "$FUZZ" && cargo fuzz build "${san[@]}") >"$FUZZ/logs/build.log" 2>&1 ||
        { tail -40 "$FUZZ/logs/build.log" >&2; echo "fuzz: build failed (fuzz/logs/build.log)" >&2; exit 1; }
}

failed=0 passed=0
# run_target TARGET SECONDS [LIBFUZZER_FLAGS...]: one summary line (and the crash, if any).
# cargo-fuzz itself passes -artifact_prefix=fuzz/artifacts/TARGET/.
run_target() {
    local t=$1 secs=$2 log=$FUZZ/logs/$1.log rc=0
    shift 2
    mkdir -p "$FUZZ/logs" "$FUZZ/artifacts/$t" "$FUZZ/corpus/$t"
    local dict=() && [[ -f $FUZZ/dict/$t.dict ]] && dict=("-dict=$FUZZ/dict/$t.dict")
    (cd "$FUZZ" && cargo fuzz run "${san[@]}" "$t" "$FUZZ/corpus/$t" "${SEEDS[$t]:-$FUZZ/seeds/$t}" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dict[@]}" ${FLAGS[$t]:-} "$@") >"$log" 2>&1 || rc=$?
    # libFuzzer's own figures: final stats, its last status line, "Done N runs in T second(s)".
    stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
    last() { grep -o "$1: [0-9]*" "$log" | tail -1 | cut -d' ' -f2; }
    local took && took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    local figures="$(stat number_of_executed_units) execs in ${took:-$secs} s"
    local extra="$(stat average_exec_per_sec) exec/s, cov $(last cov), ft $(last ft), corpus $(last corp)"
    if [[ $rc -eq 0 ]]; then
        echo "$t: $figures, 0 crashes ($extra)"
        passed=$((passed + 1))
        return
    fi
    failed=$((failed + 1))
    local what artifact
    what=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z -]*[a-z]' "$log" | sed 's/^ERROR: //' || echo "exit $rc")
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "$t: $figures, 1 crash ($what; $extra)"
    echo "--- $t: first lines of the failure (full log: fuzz/logs/$t.log)"
    grep -m1 -A6 -E "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "$log" | sed 's/^/    /' || true
    if [[ -n $artifact && -f $artifact ]]; then
        echo "    reproducer: ${artifact#"$ROOT"/} ($(wc -c <"$artifact") bytes); rerun with: scripts/fuzz.sh repro $t ${artifact#"$ROOT"/}"
        echo "    hex (first 1024 bytes at most): $(head -c 1024 "$artifact" | od -An -v -tx1 | tr -d ' \n')"
    fi
}

# campaign SECONDS TARGET... [-- FLAGS...]
campaign() {
    local secs=$1 targets=()
    shift
    while [[ $# -gt 0 && $1 != -- ]]; do targets+=("$1") && shift; done
    [[ ${1:-} == -- ]] && shift
    install
    build
    echo "fuzz: cargo-fuzz ready and targets built in $SECONDS s (sanitizer: $SANITIZER)"
    for t in "${targets[@]}"; do run_target "$t" "$secs" "$@"; done
    echo "fuzz: total $SECONDS s"
    echo "fuzz: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}

all() { if [[ -n ${FUZZ_TARGETS:-} ]]; then echo "$FUZZ_TARGETS"; else install && (cd "$FUZZ" && cargo fuzz list); fi; }
cmd=${1:-smoke}
shift || true
case $cmd in
    smoke | long)
        secs=${1:-$([[ $cmd == smoke ]] && echo 60 || echo 600)}
        read -r -a targets <<<"$(all | tr '\n' ' ')"
        campaign "$secs" "${targets[@]}"
        ;;
    run)
        t=${1:?usage: scripts/fuzz.sh run TARGET [SECONDS] [-- FLAGS]} && shift
        secs=60 && [[ $# -gt 0 && $1 != -- ]] && secs=$1 && shift
        campaign "$secs" "$t" "$@"
        ;;
    repro)
        [[ $# -eq 2 ]] || { echo "usage: scripts/fuzz.sh repro TARGET FILE" >&2; exit 2; }
        file=$(realpath "$2") && install && build
        cd "$FUZZ" && FUZZ_VERBOSE=1 RUST_BACKTRACE=1 exec cargo fuzz run "${san[@]}" "$1" "$file"
        ;;
    install) install ;;
    build) install && build ;;
    list) all ;;
    *) sed -n '2,18p' "$0" && exit 2 ;;
esac
