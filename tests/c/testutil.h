/*
 * Helpers shared by the C tests: a tiny assertion framework, database ids, and a raw-socket
 * HTTP/1.1 client for qovery-mock's control API (/_mock/...). Loopback only, every socket
 * operation bounded by a 10 s timeout.
 */
#ifndef QOVERY_TESTUTIL_H
#define QOVERY_TESTUTIL_H

/* The tests are C99 (-std=c99 -Wpedantic) plus POSIX sockets, threads and clocks. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "qovery_redeploy.h"

static int t_failures = 0;
static int t_checks = 0;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        __sync_fetch_and_add(&t_checks, 1);                                              \
        if (!(cond)) {                                                                   \
            __sync_fetch_and_add(&t_failures, 1);                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_CODE(result, expected)                                                     \
    do {                                                                                 \
        qovery_code got_ = qovery_result_code(result);                                   \
        __sync_fetch_and_add(&t_checks, 1);                                              \
        if (got_ != (expected)) {                                                        \
            __sync_fetch_and_add(&t_failures, 1);                                        \
            fprintf(stderr, "%s:%d: expected %s, got %s: %s\n", __FILE__, __LINE__,      \
                    qovery_code_name(expected), qovery_code_name(got_),                  \
                    qovery_result_message(result));                                      \
        }                                                                                \
    } while (0)

#define CHECK_STR(actual, expected)                                                      \
    do {                                                                                 \
        const char *a_ = (actual);                                                       \
        const char *e_ = (expected);                                                     \
        __sync_fetch_and_add(&t_checks, 1);                                              \
        if (a_ == NULL || strcmp(a_, e_) != 0) {                                         \
            __sync_fetch_and_add(&t_failures, 1);                                        \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #actual, a_ ? a_ : "(null)", e_);                                    \
        }                                                                                \
    } while (0)

#define CHECK_CONTAINS(actual, needle)                                                   \
    do {                                                                                 \
        const char *a_ = (actual);                                                       \
        __sync_fetch_and_add(&t_checks, 1);                                              \
        if (a_ == NULL || strstr(a_, (needle)) == NULL) {                                \
            __sync_fetch_and_add(&t_failures, 1);                                        \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected to contain \"%s\"\n",         \
                    __FILE__, __LINE__, #actual, a_ ? a_ : "(null)", (needle));           \
        }                                                                                \
    } while (0)

#define MOCK_TOKEN "qovery-mock-token"

static inline const char *mock_url(void) {
    const char *url = getenv("QOVERY_MOCK_URL");
    if (url == NULL || strncmp(url, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "QOVERY_MOCK_URL must be the qovery-mock base URL (http://127.0.0.1:PORT)\n");
        exit(2);
    }
    return url;
}

static inline int mock_port(void) { return atoi(mock_url() + 17); }

/* A fresh database id per call, distinct between processes sharing one mock. */
static inline void new_db_id(char out[37]) {
    static unsigned counter = 0;
    unsigned n = __sync_add_and_fetch(&counter, 1);
    snprintf(out, 37, "%08x-0000-4000-8000-%012x", (unsigned)getpid(), n);
}

static inline int loopback_socket(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * One control-API request (Connection: close). Returns the HTTP status (or -1) and copies
 * the body into `body` (NUL-terminated, truncated to body_len - 1) when it is not NULL.
 */
static inline int mock_request(const char *method, const char *path, const char *json, char *body,
                        size_t body_len) {
    int fd = loopback_socket(mock_port());
    if (fd < 0) return -1;
    char req[8192];
    size_t len = json ? strlen(json) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, len, json ? json : "");
    if (n < 0 || (size_t)n >= sizeof req || send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, got = 0;
    char *resp = malloc(cap);
    for (;;) {
        if (resp == NULL) {
            close(fd);
            return -1;
        }
        ssize_t r = recv(fd, resp + got, cap - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        if (got == cap - 1) {
            if (cap >= (1u << 24)) break; /* 16 MiB: more than the mock ever sends */
            char *bigger = realloc(resp, cap * 2);
            if (bigger == NULL) free(resp);
            resp = bigger;
            cap *= 2;
        }
    }
    close(fd);
    resp[got] = '\0';
    int status = -1;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1) status = -1;
    if (status > 0 && body != NULL && body_len > 0) {
        const char *start = strstr(resp, "\r\n\r\n");
        snprintf(body, body_len, "%s", start ? start + 4 : "");
    }
    free(resp);
    return status;
}

/* PUT /_mock/databases/{id} with a JSON config ("{}" for the defaults); true if created
 * (201) or replaced (200). */
static inline int mock_database(const char *id, const char *config) {
    char path[128];
    snprintf(path, sizeof path, "/_mock/databases/%s", id);
    int status = mock_request("PUT", path, config, NULL, 0);
    return status == 200 || status == 201;
}

/* POST /_mock/databases/{id}/faults. */
static inline int mock_fault(const char *id, const char *fault) {
    char path[128];
    snprintf(path, sizeof path, "/_mock/databases/%s/faults", id);
    return mock_request("POST", path, fault, NULL, 0);
}

/* How many redeploy (or status) requests the mock saw for a database; -1 on error. */
static inline long mock_count(const char *id, const char *which) {
    char path[128], key[32];
    size_t len = 1 << 22; /* the request log holds up to 1000 entries */
    char *body = malloc(len);
    long count = -1;
    snprintf(path, sizeof path, "/_mock/databases/%s/requests", id);
    snprintf(key, sizeof key, "\"%s\":", which);
    if (body != NULL && mock_request("GET", path, NULL, body, len) == 200) {
        const char *at = strstr(body, key);
        if (at != NULL) count = strtol(at + strlen(key), NULL, 10);
    }
    free(body);
    return count;
}

/* A client for the mock; extra settings through the callback-free arguments. */
static inline qovery_client *mock_client(const char *token, uint32_t max_retries, uint64_t request_timeout_ms) {
    qovery_client_options *o = qovery_client_options_new();
    qovery_client_options_set_token(o, token);
    qovery_client_options_set_base_url(o, mock_url());
    qovery_client_options_set_max_retries(o, max_retries);
    if (request_timeout_ms) qovery_client_options_set_request_timeout_ms(o, request_timeout_ms);
    qovery_client *c = NULL;
    qovery_result *err = NULL;
    if (qovery_client_new(o, &c, &err) != QOVERY_OK) {
        fprintf(stderr, "mock_client: %s\n", qovery_result_message(err));
        exit(2);
    }
    qovery_client_options_free(o);
    return c;
}

static inline int t_summary(const char *name) {
    if (t_failures) {
        fprintf(stderr, "%s: FAILED %d of %d checks\n", name, t_failures, t_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, t_checks);
    return 0;
}

#endif
