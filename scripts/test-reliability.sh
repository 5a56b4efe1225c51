#!/usr/bin/env bash
# Reliability checks, bounded for CI or at full size:
#
#   scripts/test-reliability.sh [smoke|long]
#
# smoke (default, what CI runs; about 2 minutes warm):
#   the fault matrix through the C ABI (ASan+UBSan) and through Python, a 16 x 200 soak in C
#   (ASan+UBSan, LeakSanitizer at exit) and in Python, valgrind on 1,000 calls through the C ABI,
#   Python RSS over 5,000 calls. (The matrix through Rust runs in `cargo test`.)
# long (the figures in RELIABILITY.md; about 4 minutes):
#   the same with the issue's sizes: 16 x 2,000 soaks, valgrind on 10,000 calls, RSS over 20,000
#   calls, plus the Rust matrix (`cargo test -p qovery-redeploy --test matrix`).
#
# It builds what it needs: the debug C library and qovery-mock (`cargo build -p
# qovery-redeploy-ffi -p qovery-mock`), the C programs (gcc), and uses the Python package
# installed in .venv by scripts/test-python.sh; if .venv lacks it, or it is older than the
# Rust or Python sources, it rebuilds and reinstalls it the way scripts/test-python.sh does
# (the release wheel: scripts/release.sh wheel, pip install). It starts its own qovery-mock on 127.0.0.1 (stdin-tied,
# so it dies with this script) and stops it. Fuzzing is scripts/fuzz.sh (see fuzz/README.md).
#
# Prints one summary line per part with its figures, writes them to
# target/reliability/last-<mode>.txt, and exits non-zero if any part failed.
# RELIABILITY_SKIP="matrix-python ..." skips parts (matrix-c matrix-python matrix-rust soak-c
# soak-python valgrind rss), e.g. matrix-python right after scripts/test-python.sh, whose
# pytest run already includes tests/python/test_matrix.py.
set -uo pipefail

mode=${1:-smoke}
case $mode in
    smoke) soak_calls=200 vg_threads=4 vg_calls=250 rss_calls=5000 rust_matrix=0 ;;
    long) soak_calls=2000 vg_threads=4 vg_calls=2500 rss_calls=20000 rust_matrix=1 ;;
    *)
        echo "usage: $0 [smoke|long]" >&2
        exit 2
        ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$target_dir/reliability
mkdir -p "$work/lib" "$work/logs"
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["settings"]["token"])' tests/matrix/cases.json)
py=$root/.venv/bin/python
mock_pid=
started=$SECONDS
results=()
failed=0

cleanup() {
    if [[ -n $mock_pid ]]; then
        kill "$mock_pid" 2>/dev/null
        wait "$mock_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# part NAME COMMAND...: output in $work/logs/NAME.log (its tail shown on failure); the log's
# "summary:" lines (or the command's last line) are the figures.
part() {
    local name=$1
    shift
    local log="$work/logs/${name//[^a-zA-Z0-9_+-]/_}.log" t0=$SECONDS status figures
    printf '=== %s\n' "$name"
    if "$@" >"$log" 2>&1; then
        status=PASS
    else
        status=FAIL
        failed=1
        tail -n 40 "$log" | sed 's/^/    /'
    fi
    grep -h '^KNOWN BUG' "$log" | sed 's/^/    /'
    figures=$(grep -h '^summary:' "$log" | sed 's/^summary: *//' | tr '\n' ' ')
    [[ -n $figures ]] || figures=$(grep -v '^\s*$' "$log" | tail -n 1)
    printf '    %s\n' "$figures"
    results+=("$(printf '%-4s %-30s %4ss  %s' "$status" "$name" "$((SECONDS - t0))" "$figures")")
    [[ $status == PASS ]]
}

# maybe KEY NAME COMMAND...: part, unless KEY is in $RELIABILITY_SKIP.
maybe() {
    local key=$1
    shift
    if [[ " ${RELIABILITY_SKIP:-} " == *" $key "* ]]; then
        printf '=== %s: skipped (RELIABILITY_SKIP)\n' "$1"
        results+=("$(printf '%-4s %-30s (RELIABILITY_SKIP)' SKIP "$1")")
        return 0
    fi
    part "$@"
}

blocked() {
    results+=("$(printf '%-4s %-30s (not run: %s failed)' FAIL "$1" "$2")")
    failed=1
}

# shellcheck disable=SC2054 # one flag with a comma-separated value
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cc_prog() { # cc_prog SOURCE OUTPUT EXTRA_FLAGS...
    local src=$1 out=$2
    shift 2
    gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -g "$@" -I"$root/include" "$src" \
        -L"$work/lib" -lqovery_redeploy -Wl,-rpath,"$work/lib" -lpthread -o "$out"
}

build() {
    local tool
    for tool in gcc valgrind readelf python3; do
        command -v "$tool" >/dev/null || { echo "$tool is missing (.ci/provision installs it)"; return 1; }
    done
    cargo build --locked -p qovery-redeploy-ffi -p qovery-mock || return 1
    # The library's soname (libqovery_redeploy.so.0.1) next to the debug build, by symlink.
    local so=$target_dir/debug/libqovery_redeploy.so soname
    soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
    [[ -n $soname ]] || { echo "no soname in $so"; return 1; }
    ln -sfn "$so" "$work/lib/$soname" && ln -sfn "$soname" "$work/lib/libqovery_redeploy.so" || return 1
    cc_prog tests/matrix/matrix_c.c "$work/matrix_c_asan" "${san[@]}" &&
        cc_prog tests/soak/soak.c "$work/soak_asan" "${san[@]}" &&
        cc_prog tests/soak/soak.c "$work/soak_plain" -O0 || return 1
    echo "summary: debug libqovery_redeploy ($soname) and qovery-mock; matrix_c and soak (ASan+UBSan), soak (plain, for valgrind)"
}

# The package in .venv is reused when it imports and is newer than every source it is built
# from; otherwise it is rebuilt as scripts/test-python.sh builds it.
python_package() {
    local so="" stale=""
    if [[ -x $py ]] && so=$("$py" -c 'import qovery_redeploy._qovery_redeploy as m; print(m.__file__)' 2>/dev/null); then
        stale=$(find core/src core/Cargo.toml python/src python/qovery_redeploy python/Cargo.toml python/pyproject.toml \
            Cargo.lock -type f -newer "$so" -print -quit)
        if [[ -z $stale ]] && "$py" -c 'import pytest' 2>/dev/null; then
            echo "summary: reusing the qovery_redeploy installed in .venv ($("$py" -c 'import qovery_redeploy as q; print(q.__version__)'), built $(date -r "$so" '+%F %T'))"
            return 0
        fi
        echo "the installed package is older than $stale: rebuilding"
    fi
    [[ -x $py ]] || "${PYTHON:-python3}" -m venv .venv || return 1
    PATH="$root/.venv/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1 bash -c '
        set -e
        python -m pip install -q -r tests/python/requirements.txt
        bash scripts/release.sh wheel >/dev/null
        python -m pip install -q --force-reinstall --no-deps --only-binary :all: --no-index \
            dist/qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl
    ' || return 1
    echo "summary: built and installed qovery_redeploy into .venv (the release wheel, scripts/release.sh wheel, as scripts/test-python.sh does)"
}

start_mock() {
    coproc MOCK { exec "$target_dir/debug/qovery-mock" --port 0 --quiet --exit-on-stdin-eof \
        --token "$token" --tick-ms 50; }
    mock_pid=$MOCK_PID # set by coproc
    local url=""
    read -r -t 30 url <&"${MOCK[0]}" || true
    [[ $url == http://127.0.0.1:* ]] || { echo "qovery-mock printed no URL (got '$url')"; return 1; }
    export QOVERY_MOCK_URL=$url QOVERY_MOCK_TOKEN=$token
    echo "summary: qovery-mock at $url"
}

matrix_c() {
    python3 tests/matrix/run_c.py --bin "$work/matrix_c_asan" --mock-url "$QOVERY_MOCK_URL"
}

matrix_python() {
    (cd tests/python && "$py" -m pytest test_matrix.py -q -p no:cacheprovider -o addopts= -rx) |
        tee "$work/logs/pytest-matrix.out" || return 1
    sed -n 's/^XFAIL test_matrix.py::test_case\[\(.*\)\] - known bug: \(.*\)/KNOWN BUG \1: \2/p' \
        "$work/logs/pytest-matrix.out"
    echo "summary: $(grep -o 'matrix python: .*' "$work/logs/pytest-matrix.out" | head -n 1)"
}

matrix_rust() {
    cargo test --locked -q -p qovery-redeploy --test matrix 2>&1
}

soak_c() {
    "$work/soak_asan" --threads 16 --calls "$soak_calls" --max-seconds 600 | tee "$work/logs/soak_c.out" &&
        echo "summary: $(cat "$work/logs/soak_c.out") (ASan+UBSan, LeakSanitizer clean at exit)"
}

soak_python() {
    "$py" tests/soak/soak.py soak --threads 16 --calls "$soak_calls" --max-seconds 600 |
        tee "$work/logs/soak_py.out" && echo "summary: $(cat "$work/logs/soak_py.out")"
}

valgrind_c() {
    local vg=$work/logs/valgrind.txt calls=$((vg_threads * vg_calls))
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file="$vg" \
        "$work/soak_plain" --threads "$vg_threads" --calls "$vg_calls" --max-seconds 1200 || {
        cat "$vg"
        return 1
    }
    grep -q 'ERROR SUMMARY: 0 errors' "$vg" || { cat "$vg"; return 1; }
    local lost
    if grep -q 'All heap blocks were freed' "$vg"; then
        lost="definitely lost: 0 bytes in 0 blocks (all heap blocks were freed)"
    else
        lost=$(grep -o 'definitely lost: .*' "$vg") || { cat "$vg"; return 1; }
        [[ $lost == "definitely lost: 0 bytes in 0 blocks" ]] || { cat "$vg"; return 1; }
    fi
    echo "summary: valgrind memcheck on $calls calls through the C ABI ($vg_threads threads x $vg_calls, one client, 1 in 8 faulted): $lost; $(grep -o 'total heap usage: .*' "$vg"); $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$vg")"
}

rss_python() {
    "$py" tests/soak/soak.py rss --calls "$rss_calls" | tee "$work/logs/rss.out" &&
        echo "summary: $(head -n 1 "$work/logs/rss.out")"
}

printf 'test-reliability %s\n' "$mode"
if part "build" build && part "python package (.venv)" python_package && part "start qovery-mock" start_mock; then
    maybe matrix-c "matrix C (ASan+UBSan)" matrix_c
    maybe matrix-python "matrix Python" matrix_python
    [[ $rust_matrix == 1 ]] && maybe matrix-rust "matrix Rust" matrix_rust
    maybe soak-c "soak C 16x$soak_calls (ASan+UBSan)" soak_c
    maybe soak-python "soak Python 16x$soak_calls" soak_python
    maybe valgrind "valgrind C $((vg_threads * vg_calls)) calls" valgrind_c
    maybe rss "RSS Python $rss_calls calls" rss_python
else
    for p in "matrix C" "matrix Python" "soak C" "soak Python" "valgrind C" "RSS Python"; do
        blocked "$p" "build, python package or mock start"
    done
fi

{
    echo "test-reliability $mode: $(date -u '+%F %T UTC'), $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+changes'), $((SECONDS - started)) s"
    printf '%s\n' "${results[@]}"
} | tee "$work/last-$mode.txt.tmp" >/dev/null
mv "$work/last-$mode.txt.tmp" "$work/last-$mode.txt"
echo
echo "=== test-reliability $mode summary ($((SECONDS - started)) s; logs in $work/logs)"
printf '%s\n' "${results[@]}"
if [[ $failed != 0 ]]; then
    echo "test-reliability: FAILED"
    exit 1
fi
echo "test-reliability: all parts passed"
