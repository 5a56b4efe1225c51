#!/usr/bin/env bash
# Fuzzing with cargo-fuzz/libFuzzer on the stable toolchain (fuzz/README.md says why it works
# and what each target checks).
#
#   scripts/fuzz.sh smoke [SECONDS]     every target for SECONDS (default 60) each; the test
#                                       command's bounded run. Exits non-zero on any crash.
#   scripts/fuzz.sh long [SECONDS]      the long run: every target for SECONDS (default 600)
#   scripts/fuzz.sh run TARGET [SECONDS] [-- LIBFUZZER_FLAGS...]   one target
#   scripts/fuzz.sh repro TARGET FILE   run one saved input (e.g. fuzz/artifacts/...) again
#   scripts/fuzz.sh install | seeds | build | list
#
# Environment:
#   FUZZ_TARGETS="status_json response"  run only these targets (default: all of them)
#   FUZZ_SANITIZER=none|address          default none (plain stable). `address` builds with
#                                        AddressSanitizer, which needs -Zsanitizer and so
#                                        RUSTC_BOOTSTRAP=1; the script sets it for that build
#                                        only, in its own target dir (fuzz/target/address).
#
# Installs what it needs itself: cargo-fuzz (pinned) under target/tools, libFuzzer is built
# from source by the libfuzzer-sys crate (needs a C++ compiler: g++ or clang++). The fuzz
# build has its own target dir (fuzz/target) so it never invalidates the shared target/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CARGO_FUZZ_VERSION=0.13.2
TOOLS=$ROOT/target/tools
FUZZ=$ROOT/fuzz
ALL_TARGETS=(status_json response database_id)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"
SANITIZER=${FUZZ_SANITIZER:-none}
export PATH=$TOOLS/bin:$PATH

# Per-target libFuzzer flags (on top of the common ones in run_target).
target_flags() {
    case $1 in
        response) echo "-max_len=8192" ;;
        status_json) echo "-max_len=8192" ;;
        database_id) echo "-max_len=256" ;;
        *) echo "" ;;
    esac
}

now() { date +%s.%N; }
bytes() { printf %s "$1" | wc -c; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need_cxx() {
    if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
        echo "fuzz: libfuzzer-sys compiles libFuzzer (C++): install g++ (apt-get install g++)" >&2
        exit 2
    fi
}

install() {
    local have
    have=$("$TOOLS/bin/cargo-fuzz" --version 2>/dev/null || true)
    if [[ $have == "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
        return
    fi
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION under ${TOOLS#"$ROOT"/}" >&2
    cargo install --locked --quiet --force --root "$TOOLS" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
}

# Seeds: valid inputs for each target, written afresh into the (git-ignored) working corpus.
# libFuzzer adds what it finds next to them; `rm -rf fuzz/corpus` starts over.
seeds() {
    local dir
    dir=$FUZZ/corpus/status_json
    mkdir -p "$dir"
    for f in core/tests/fixtures/*.json; do
        cp "$f" "$dir/seed-$(basename "$f" .json)"
    done

    dir=$FUZZ/corpus/response
    mkdir -p "$dir"
    local body seed crlf=$'\r\n'
    body=$(cat core/tests/fixtures/seed-status.json)
    # answer NAME STATUS-LINE HEADERS BODY: a Content-Length answer (headers end in CRLF).
    answer() {
        printf 'HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s' "$2" "$3" "$(bytes "$4")" "$4" >"$dir/seed-$1"
    }
    answer 202-json "202 Accepted" "Content-Type: application/json${crlf}" "$body"
    answer 200-json "200 OK" "" "$(cat core/tests/fixtures/minimal-status.json)"
    answer 200-future "200 OK" "Connection: keep-alive${crlf}" "$(cat core/tests/fixtures/future-status.json)"
    answer 401 "401 Unauthorized" "" '{"status":401,"detail":"Invalid token"}'
    answer 403 "403 Forbidden" "" '{"status":403,"detail":"Forbidden"}'
    answer 404-old "404 Not Found" "" '{"status":404,"error":"Not Found","message":"database not found","timestamp":"2024-01-01T00:00:00Z","path":"/database/x/status"}'
    answer 409 "409 Conflict" "" '{"status":409,"detail":"conflict"}'
    answer 400-in-progress "400 Bad Request" "" '{"status":400,"detail":"Deployment already in progress"}'
    answer 429-seconds "429 Too Many Requests" "Retry-After: 7${crlf}" '{"status":429,"detail":"slow down"}'
    answer 429-date "429 Too Many Requests" "Retry-After: Wed, 21 Oct 2037 07:28:00 GMT${crlf}" ''
    answer 503-html "503 Service Unavailable" "Retry-After: 0${crlf}Content-Type: text/html${crlf}" '<html><body><h1>502 Bad Gateway</h1></body></html>'
    answer 302 "302 Found" "Location: https://evil.example/steal${crlf}" ''
    printf 'HTTP/1.1 204 No Content\r\n\r\n' >"$dir/seed-204"
    printf 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n%s' \
        "$(bytes "$body")" "$body" >"$dir/seed-100-continue"
    # Chunked: the status body cut in three chunks, a chunk extension and a trailer.
    seed=$dir/seed-200-chunked
    {
        printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
        local rest=$body n
        for n in 40 100; do
            printf '%x;ext=1\r\n%s\r\n' "$n" "${rest:0:n}"
            rest=${rest:n}
        done
        printf '%x\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n' "$(bytes "$rest")" "$rest"
    } >"$seed"
    # Until close (HTTP/1.0, no length).
    printf 'HTTP/1.0 202 Accepted\r\n\r\n%s' "$body" >"$dir/seed-202-until-close"

    dir=$FUZZ/corpus/database_id
    mkdir -p "$dir"
    printf '3c90c3cc-0d44-4b50-8888-8dd25736052a' >"$dir/seed-uuid"
    printf '3C90C3CC-0D44-4B50-8888-8DD25736052A' >"$dir/seed-upper"
    printf '{3c90c3cc-0d44-4b50-8888-8dd25736052a}' >"$dir/seed-braced"
    printf '3c90c3cc-0d44-4b50-8888-8dd25736052a/../x' >"$dir/seed-traversal"
}

target_dir_args() {
    if [[ $SANITIZER != none ]]; then
        echo "--target-dir $FUZZ/target/$SANITIZER"
    fi
}

fuzz_cargo() {
    # -Zsanitizer (any sanitizer but none) is a nightly flag: on stable it needs
    # RUSTC_BOOTSTRAP=1. The sanitizer-free build uses stable -C flags only.
    if [[ $SANITIZER != none ]]; then
        RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
    else
        cargo fuzz "$@"
    fi
}

build() {
    need_cxx
    # Fails if fuzz/Cargo.lock is out of date, so a build never picks other versions.
    cargo fetch --locked --quiet --manifest-path "$FUZZ/Cargo.toml"
    mkdir -p "$FUZZ/logs"
    local log=$FUZZ/logs/build.log
    # Builds every target (they share all but their last link step).
    # shellcheck disable=SC2046
    if ! (cd "$FUZZ" && fuzz_cargo build -s "$SANITIZER" $(target_dir_args)) >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: build failed (full log: ${log#"$ROOT"/})" >&2
        exit 1
    fi
}

binary() {
    local dir=$FUZZ/target
    [[ $SANITIZER != none ]] && dir=$FUZZ/target/$SANITIZER
    echo "$dir/x86_64-unknown-linux-gnu/release/$1"
}

FAILED=0
PASSED=0

# run_target TARGET SECONDS [LIBFUZZER_FLAGS...]: prints one summary line.
run_target() {
    local t=$1 secs=$2
    shift 2
    local log=$FUZZ/logs/$t.log corpus=$FUZZ/corpus/$t
    mkdir -p "$FUZZ/logs" "$FUZZ/artifacts/$t" "$corpus"
    local dict=()
    [[ -f $FUZZ/dict/$t.dict ]] && dict=("-dict=$FUZZ/dict/$t.dict")
    local rc=0 t0
    t0=$(now)
    # shellcheck disable=SC2046
    (cd "$FUZZ" && fuzz_cargo run -s "$SANITIZER" $(target_dir_args) "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$FUZZ/artifacts/$t/" "${dict[@]}" $(target_flags "$t") "$@") \
        >"$log" 2>&1 || rc=$?
    local execs took rate cov ft corp
    took=$(since "$t0")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # libFuzzer's own "Done N runs in T second(s)" when it ran to the end.
    local finished
    finished=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    [[ -n $finished ]] && took=$finished
    rate=$(awk -v n="${execs:-0}" -v t="$took" 'BEGIN { printf "%d", (t > 0 ? n / t : 0) }')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    local extra="$rate exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    if [[ $rc -eq 0 ]]; then
        echo "$t: ${execs:-?} execs in ${took:-?} s, 0 crashes ($extra)"
        PASSED=$((PASSED + 1))
        return
    fi
    FAILED=$((FAILED + 1))
    local artifact what
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    what=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z -]*[a-z]' "$log" | sed 's/^ERROR: //' || echo "exit $rc")
    echo "$t: ${execs:-?} execs in ${took:-?} s, 1 crash ($what; $extra)"
    echo "--- $t: first lines of the failure (full log: ${log#"$ROOT"/})"
    grep -m1 -A6 -E "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "$log" | sed 's/^/    /' || true
    if [[ -n $artifact && -f $artifact ]]; then
        echo "    reproducer: ${artifact#"$ROOT"/} ($(wc -c <"$artifact" | tr -d ' ') bytes)"
        echo "    rerun with: scripts/fuzz.sh repro $t ${artifact#"$ROOT"/}"
        local size
        size=$(wc -c <"$artifact")
        echo "    hex$( ((size > 1024)) && echo ", first 1024 bytes"): $(head -c 1024 "$artifact" | od -An -v -tx1 | tr -d ' \n')"
    fi
}

campaign() {
    local secs=$1
    shift
    local t0 t1
    t0=$(now)
    install
    echo "fuzz: cargo-fuzz ready in $(since "$t0") s"
    seeds
    t1=$(now)
    build
    echo "fuzz: targets built in $(since "$t1") s (sanitizer: $SANITIZER)"
    for t in "${TARGETS[@]}"; do
        run_target "$t" "$secs" "$@"
    done
    echo "fuzz: total $(since "$t0") s"
    echo "fuzz: $PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

cmd=${1:-smoke}
shift || true
case $cmd in
    smoke) campaign "${1:-60}" ;;
    long) campaign "${1:-600}" ;;
    run)
        t=${1:?usage: scripts/fuzz.sh run TARGET [SECONDS] [-- FLAGS]}
        shift
        secs=60
        if [[ $# -gt 0 && $1 != -- ]]; then
            secs=$1
            shift
        fi
        [[ ${1:-} == -- ]] && shift
        TARGETS=("$t")
        install
        seeds
        build
        run_target "$t" "$secs" "$@"
        [[ $FAILED -eq 0 ]]
        ;;
    repro)
        t=${1:?usage: scripts/fuzz.sh repro TARGET FILE}
        file=${2:?usage: scripts/fuzz.sh repro TARGET FILE}
        TARGETS=("$t")
        install
        build
        FUZZ_VERBOSE=1 RUST_BACKTRACE=1 "$(binary "$t")" "$file"
        ;;
    install) install ;;
    seeds) seeds ;;
    build) install && build ;;
    list) printf '%s\n' "${ALL_TARGETS[@]}" ;;
    *)
        sed -n '2,20p' "$0"
        exit 2
        ;;
esac
