#!/usr/bin/env bash
# Every test of the C ABI, from a fresh clone, in one command:
#
#   scripts/test-ffi.sh
#
# header drift (pinned cbindgen, installed into target/tools on first use), header compiles as
# C99 and C++ with -Wall -Wextra -Wpedantic -Werror, Rust unit tests of the ffi crate, exported
# symbols, install into a temporary prefix (scripts/ffi-install.sh), then against qovery-mock on
# loopback: the C test with ASan+UBSan, the threads test (8 threads x 200 calls, one client), one
# valgrind run (zero definite leaks, zero errors), pkg-config + the example program, the C++
# consumer through CMake find_package (shared and static), Python ctypes, Go cgo `go vet` + `go test` of bindings/go.
#
# Prints one PASS/FAIL line per part and exits non-zero if any part failed. Missing system
# tools (gcc, g++, cmake, pkg-config, valgrind, go, tinyproxy...) are installed by .ci/provision.
# KEEP_WORK=1 keeps the temporary directory (logs, prefix, binaries).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/qovery-ffi-test.XXXXXX")
prefix=$work/prefix
mock_pid=

cleanup() {
    local pid
    for pid in "$mock_pid" "${tls_mock_pid:-}" "${proxy_pid:-}"; do
        if [[ -n $pid ]]; then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "test-ffi: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_all=$(date +%s)
results=()
failed=0

# part NAME COMMAND...: runs COMMAND with its output in $work/NAME.log; prints the log's tail
# on failure. Records "PASS"/"FAIL" and the duration.
part() {
    local name=$1
    shift
    local log="$work/${name//[^a-zA-Z0-9_+-]/_}.log" t0=$SECONDS status
    printf '=== %s\n' "$name"
    if "$@" >"$log" 2>&1; then
        status=PASS
    else
        status=FAIL
        failed=1
        tail -n 60 "$log" | sed 's/^/    /'
    fi
    grep -h '^summary:' "$log" | sed 's/^summary:/    /'
    results+=("$(printf '%-4s %-34s %4ss' "$status" "$name" "$((SECONDS - t0))")")
    [[ $status == PASS ]]
}

# A part that cannot run because an earlier one failed is reported as failed, not skipped.
blocked() {
    results+=("$(printf '%-4s %-34s (not run: %s failed)' FAIL "$1" "$2")")
    failed=1
}

ensure_tools() {
    bash .ci/provision || return 1
    for tool in gcc g++ cmake pkg-config valgrind python3 go; do
        printf '%s: ' "$tool"
        case $tool in
            go) go version ;;
            valgrind) valgrind --version ;;
            *) "$tool" --version | head -n 1 ;;
        esac || return 1
    done
}

header_compiles() {
    local inc="$root/include"
    printf '#include "qovery_redeploy.h"\nint main(void) { return qovery_version() == 0; }\n' >"$work/h.c"
    cp "$work/h.c" "$work/h.cpp"
    local warn=(-Wall -Wextra -Wpedantic -Werror)
    gcc -std=c99 "${warn[@]}" -Wstrict-prototypes -Wmissing-prototypes -I"$inc" -c "$work/h.c" -o "$work/h99.o" &&
        gcc -std=c11 "${warn[@]}" -I"$inc" -c "$work/h.c" -o "$work/h11.o" &&
        g++ -std=c++11 "${warn[@]}" -I"$inc" -c "$work/h.cpp" -o "$work/hxx11.o" &&
        g++ -std=c++17 "${warn[@]}" -I"$inc" -c "$work/h.cpp" -o "$work/hxx17.o" &&
        echo "summary: C99, C11, C++11, C++17 with ${warn[*]}"
}

build() {
    cargo build --locked -p qovery-redeploy-ffi && cargo build --locked -p qovery-mock
}

# Only qovery_* symbols leave the shared object, and exactly the functions the header
# declares; the soname is set.
symbols() {
    local so="$target_dir/debug/libqovery_redeploy.so"
    nm -D --defined-only --format=posix "$so" | awk '{print $1}' | sort >"$work/exported.txt"
    grep -oE '\bqovery_[a-z0-9_]+\(' include/qovery_redeploy.h | tr -d '(' | sort -u >"$work/declared.txt"
    local stray
    stray=$(grep -v '^qovery_' "$work/exported.txt")
    if [[ -n $stray ]]; then
        echo "exported symbols without the qovery_ prefix:"
        echo "$stray"
        return 1
    fi
    if ! diff -u "$work/declared.txt" "$work/exported.txt"; then
        echo "the header's functions and the exported symbols differ"
        return 1
    fi
    readelf -d "$so" | grep -q 'SONAME.*libqovery_redeploy\.so\.' || { echo "no soname"; return 1; }
    echo "summary: $(wc -l <"$work/exported.txt") exported symbols, all qovery_*, all declared; $(readelf -d "$so" | grep -o 'libqovery_redeploy[^]]*')"
}

start_mock() {
    "$target_dir/debug/qovery-mock" --port 0 --tick-ms 50 >"$work/mock.url" 2>"$work/mock.log" &
    mock_pid=$!
    local i
    for i in $(seq 100); do
        if [[ -s $work/mock.url ]]; then
            QOVERY_MOCK_URL=$(head -n 1 "$work/mock.url")
            export QOVERY_MOCK_URL
            curl -fsS "$QOVERY_MOCK_URL/_mock/health" && echo && return 0
        fi
        kill -0 "$mock_pid" 2>/dev/null || { echo "qovery-mock exited"; cat "$work/mock.log"; return 1; }
        sleep 0.1
    done
    echo "qovery-mock printed no URL within 10 s"
    return 1
}

# qovery-mock --tls (for tests/c/test_tls.c and test_fork.c): line 1 its URL, line 2 its CA.
tls_mock_pid=
proxy_pid=
start_tls_mock() {
    "$target_dir/debug/qovery-mock" --tls --tls-dir "$work/tls" --any-database --port 0 --tick-ms 50 \
        >"$work/mock-tls.out" 2>"$work/mock-tls.log" &
    tls_mock_pid=$!
    local i info
    for i in $(seq 100); do
        if [[ $(wc -l <"$work/mock-tls.out") -ge 2 ]]; then
            QOVERY_TLS_MOCK_URL=$(sed -n 1p "$work/mock-tls.out")
            QOVERY_TLS_CA=$(sed -n 2p "$work/mock-tls.out")
            info=$(curl -fsS --noproxy '*' --cacert "$QOVERY_TLS_CA" "$QOVERY_TLS_MOCK_URL/_mock/tls") || return 1
            QOVERY_TLS_UNKNOWN_CA=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["unknown_ca"])' "$info")
            QOVERY_TLS_WRONG_HOST=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["wrong_host"])' "$info")
            QOVERY_TLS_EXPIRED=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["expired"])' "$info")
            export QOVERY_TLS_MOCK_URL QOVERY_TLS_CA QOVERY_TLS_UNKNOWN_CA QOVERY_TLS_WRONG_HOST QOVERY_TLS_EXPIRED
            echo "summary: $QOVERY_TLS_MOCK_URL, CA $QOVERY_TLS_CA, faults $info"
            return 0
        fi
        kill -0 "$tls_mock_pid" 2>/dev/null || { echo "qovery-mock --tls exited"; cat "$work/mock-tls.log"; return 1; }
        sleep 0.1
    done
    echo "qovery-mock --tls printed no URL and CA within 10 s"
    return 1
}

# tinyproxy on 127.0.0.1 (a free port), CONNECT to any port, log at Connect level.
start_proxy() {
    local port attempt i
    for attempt in 1 2 3; do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        mkdir -p "$work/proxy"
        printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nLogFile "%s"\nLogLevel Connect\nPidFile "%s"\nMaxClients 50\nTimeout 30\n' \
            "$port" "$work/proxy/tinyproxy.log" "$work/proxy/tinyproxy.pid" >"$work/proxy/tinyproxy.conf"
        tinyproxy -d -c "$work/proxy/tinyproxy.conf" >"$work/proxy/stdout.log" 2>&1 &
        proxy_pid=$!
        for i in $(seq 50); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                export QOVERY_PROXY_URL=http://127.0.0.1:$port QOVERY_PROXY_LOG=$work/proxy/tinyproxy.log
                echo "summary: tinyproxy $(tinyproxy -v | awk '{print $2}') at $QOVERY_PROXY_URL"
                return 0
            fi
            kill -0 "$proxy_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$proxy_pid" 2>/dev/null
        wait "$proxy_pid" 2>/dev/null
        proxy_pid=
    done
    echo "tinyproxy did not start"
    return 1
}

c_tls() {
    cc_test tests/c/test_tls.c "$work/test_tls_asan" "${san_flags[@]}" && "$work/test_tls_asan" | tee "$work/test_tls.out" &&
        echo "summary: $(tail -n 1 "$work/test_tls.out")"
}

c_fork() {
    cc_test tests/c/test_fork.c "$work/test_fork_asan" "${san_flags[@]}" && "$work/test_fork_asan" | tee "$work/test_fork.out" &&
        echo "summary: $(tail -n 1 "$work/test_fork.out")"
}

cc_test() { # cc_test SOURCE OUTPUT EXTRA_FLAGS...
    local src=$1 out=$2
    shift 2
    gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -g "$@" -I"$prefix/include" "$src" \
        -L"$prefix/lib" -lqovery_redeploy -Wl,-rpath,"$prefix/lib" -lpthread -o "$out"
}

san_flags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

c_asan() {
    cc_test tests/c/test_ffi.c "$work/test_ffi_asan" "${san_flags[@]}" && "$work/test_ffi_asan" &&
        echo "summary: $(tail -n 1 "$work/C_test_ASan+UBSan.log" 2>/dev/null); $(grep -o 'cancel latency.*' "$work/C_test_ASan+UBSan.log")"
}

threads() {
    cc_test tests/c/threads.c "$work/threads_asan" "${san_flags[@]}" && "$work/threads_asan" | tee "$work/threads.out" &&
        echo "summary: $(grep '^threads: 8' "$work/threads.out")"
}

valgrind_run() {
    cc_test tests/c/test_ffi.c "$work/test_ffi_plain" -O0 &&
        valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
            --log-file="$work/valgrind.txt" "$work/test_ffi_plain" || { cat "$work/valgrind.txt"; return 1; }
    grep -q 'definitely lost: 0 bytes in 0 blocks\|All heap blocks were freed' "$work/valgrind.txt" || { cat "$work/valgrind.txt"; return 1; }
    grep -q 'ERROR SUMMARY: 0 errors' "$work/valgrind.txt" || { cat "$work/valgrind.txt"; return 1; }
    echo "summary: $(grep -o 'definitely lost: .*' "$work/valgrind.txt"); $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$work/valgrind.txt")"
}

register_db() { # register_db CONFIG -> prints a fresh database id
    local id
    id=$(python3 -c 'import uuid; print(uuid.uuid4())')
    curl -fsS -X PUT --data "$1" "$QOVERY_MOCK_URL/_mock/databases/$id" >/dev/null && echo "$id"
}

pkgconfig_example() {
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    local got
    got=$(pkg-config --modversion qovery_redeploy) && [[ $got == "$version" ]] || { echo "modversion '$got' != $version"; return 1; }
    echo "cflags/libs: $(pkg-config --cflags --libs qovery_redeploy)"
    pkg-config --static --libs qovery_redeploy | grep -q -- '-lpthread' || { echo "Libs.private missing"; return 1; }
    # The example exactly as a user builds it, plus -Werror.
    # shellcheck disable=SC2046
    gcc -std=c99 -Wall -Wextra -Wpedantic -Werror examples/redeploy.c \
        $(pkg-config --cflags --libs qovery_redeploy) -Wl,-rpath,"$prefix/lib" -o "$work/example" || return 1
    readelf -d "$work/example" | grep -q 'NEEDED.*libqovery_redeploy.so.0' || { echo "not linked to the soname"; return 1; }
    local id out
    id=$(register_db '{}') || return 1
    out=$(QOVERY_API_TOKEN=qovery-mock-token QOVERY_API_URL=$QOVERY_MOCK_URL "$work/example" "$id") || { echo "$out"; return 1; }
    echo "$out"
    grep -q '^deployed: DEPLOYED$' <<<"$out" || return 1
    # and the failure paths, with the CLI's exit statuses: 3 for a refused token, 4 not found
    local rc=0
    QOVERY_API_TOKEN=wrong QOVERY_API_URL=$QOVERY_MOCK_URL "$work/example" "$id" 2>"$work/example.err" || rc=$?
    [[ $rc == 3 ]] || { echo "example with a wrong token exited $rc, not 3"; cat "$work/example.err"; return 1; }
    grep -q 'error unauthorized' "$work/example.err" || { cat "$work/example.err"; return 1; }
    rc=0
    QOVERY_API_TOKEN=qovery-mock-token QOVERY_API_URL=$QOVERY_MOCK_URL "$work/example" \
        00000000-0000-4000-8000-000000000000 2>"$work/example.err" || rc=$?
    [[ $rc == 4 ]] || { echo "example for an unknown database exited $rc, not 4"; cat "$work/example.err"; return 1; }
    echo "summary: pkg-config $got; example built with pkg-config redeployed ($(grep -c '^state:' <<<"$out") progress lines), exit 3 for a 401, exit 4 for a 404"
}

cpp_cmake() {
    cmake -S tests/cpp -B "$work/cpp" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug &&
        cmake --build "$work/cpp" -j 2 || return 1
    readelf -d "$work/cpp/consumer_shared" | grep -q 'NEEDED.*libqovery_redeploy.so.0' || { echo "shared consumer not linked to the .so"; return 1; }
    if readelf -d "$work/cpp/consumer_static" | grep -q 'NEEDED.*libqovery_redeploy'; then
        echo "static consumer depends on the .so"
        return 1
    fi
    local kind id
    for kind in shared static; do
        id=$(register_db '{}') || return 1
        "$work/cpp/consumer_$kind" "$id" || return 1
    done
    echo "summary: find_package(qovery_redeploy) -> shared and static imported targets built (-Wpedantic -Werror) and passed"
}

ctypes_test() {
    QOVERY_LIB="$prefix/lib/libqovery_redeploy.so.$sover" python3 tests/ctypes/test_ctypes.py &&
        echo "summary: $(grep -E '^Ran [0-9]+ tests' "$work/Python_ctypes.log")"
}

go_test() {
    (
        cd bindings/go &&
            export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" CGO_ENABLED=1 CGO_LDFLAGS="-Wl,-rpath,$prefix/lib" \
                GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod &&
            go vet ./... && go test -count=1 -v ./...
    ) && echo "summary: $(grep -c '^--- PASS' "$work/Go_cgo_go_test.log") Go tests passed"
}

version=$(cargo pkgid --quiet -p qovery-redeploy-ffi | sed 's/.*[@#]//')
export QOVERY_EXPECTED_VERSION=$version
IFS=. read -r v_major v_minor _ <<<"$version"
if [[ $v_major == 0 ]]; then sover=0.$v_minor; else sover=$v_major; fi

part "system tools" ensure_tools
part "header drift (cbindgen)" scripts/ffi-header.sh --check
part "header compiles C99/C++" header_compiles
if part "build ffi + mock (debug)" build; then
    part "Rust unit tests (ffi)" cargo test --locked -p qovery-redeploy-ffi
    part "exported symbols" symbols
    if part "install (ffi-install.sh)" scripts/ffi-install.sh --prefix "$prefix" --no-build &&
        part "start qovery-mock" start_mock; then
        part "C test ASan+UBSan" c_asan
        part "threads 8x200 ASan+UBSan" threads
        if part "start qovery-mock --tls" start_tls_mock && part "start tinyproxy" start_proxy; then
            part "C TLS+proxy test ASan+UBSan" c_tls
            part "C fork test ASan+UBSan" c_fork
        else
            blocked "C TLS+proxy test ASan+UBSan" "TLS mock or tinyproxy start"
            blocked "C fork test ASan+UBSan" "TLS mock or tinyproxy start"
        fi
        part "valgrind (C test)" valgrind_run
        part "pkg-config + example" pkgconfig_example
        part "C++ CMake find_package" cpp_cmake
        part "Python ctypes" ctypes_test
        part "Go cgo go test" go_test
    else
        for p in "C test ASan+UBSan" "threads 8x200 ASan+UBSan" "C TLS+proxy test ASan+UBSan" "C fork test ASan+UBSan" "valgrind (C test)" "pkg-config + example" \
            "C++ CMake find_package" "Python ctypes" "Go cgo go test"; do
            blocked "$p" "install or mock start"
        done
    fi
else
    for p in "Rust unit tests (ffi)" "exported symbols" "install (ffi-install.sh)" "C test ASan+UBSan" "C TLS+proxy test ASan+UBSan" "C fork test ASan+UBSan" \
        "threads 8x200 ASan+UBSan" "valgrind (C test)" "pkg-config + example" "C++ CMake find_package" \
        "Python ctypes" "Go cgo go test"; do
        blocked "$p" "the build"
    done
fi

echo
echo "=== test-ffi summary ($(($(date +%s) - start_all)) s)"
printf '%s\n' "${results[@]}"
if [[ $failed != 0 ]]; then
    echo "test-ffi: FAILED"
    exit 1
fi
echo "test-ffi: all parts passed"
