/*
 * Helpers of the C TLS / proxy / fork tests: the TLS mock's control API through curl (the C
 * tests have no TLS stack of their own), tinyproxy's log, clients with TLS options. The
 * environment comes from ffi/tests/consumers.rs (through ctest, tests/CMakeLists.txt):
 *   QOVERY_TLS_MOCK_URL  https://127.0.0.1:PORT (qovery-mock --tls --any-database)
 *   QOVERY_TLS_CA        its CA file
 *   QOVERY_TLS_UNKNOWN_CA, QOVERY_TLS_WRONG_HOST, QOVERY_TLS_EXPIRED  the fault listeners
 *   QOVERY_PROXY_URL     http://127.0.0.1:PORT, a tinyproxy (CONNECT allowed to any port)
 *   QOVERY_PROXY_LOG     its log file
 */
#ifndef QOVERY_TLS_UTIL_H
#define QOVERY_TLS_UTIL_H

#include "testutil.h"

static inline const char *need_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "%s must be set (ffi/tests/consumers.rs sets it)\n", name);
        exit(2);
    }
    return v;
}

static inline int url_port(const char *url) {
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* `curl -fsS --cacert CA URL/_mock/databases/ID/requests`, the redeploy or status count. */
static inline long tls_mock_count(const char *id, const char *which) {
    char cmd[1024], out[1 << 16], key[32];
    snprintf(cmd, sizeof cmd,
             "curl -fsS --max-time 10 --noproxy '*' --cacert '%s' '%s/_mock/databases/%s/requests'",
             need_env("QOVERY_TLS_CA"), need_env("QOVERY_TLS_MOCK_URL"), id);
    FILE *p = popen(cmd, "r");
    if (p == NULL) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0) return -1;
    snprintf(key, sizeof key, "\"%s\":", which);
    const char *at = strstr(out, key);
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/* CONNECT lines to 127.0.0.1:port in tinyproxy's log so far. */
static inline int proxy_connects(int port) {
    char needle[64], line[4096];
    snprintf(needle, sizeof needle, "CONNECT 127.0.0.1:%d ", port);
    FILE *f = fopen(need_env("QOVERY_PROXY_LOG"), "r");
    if (f == NULL) return 0;
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "Request (") && strstr(line, needle)) n++;
    fclose(f);
    return n;
}

/* A client for `url` trusting the TLS mock's CA; proxy: NULL = none at all, else its URL. */
static inline qovery_client *tls_client(const char *url, const char *proxy, uint32_t retries) {
    qovery_client_options *o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    qovery_client_options_set_base_url(o, url);
    qovery_client_options_set_max_retries(o, retries);
    qovery_client_options_set_request_timeout_ms(o, 10000);
    qovery_client_options_set_ca_file(o, need_env("QOVERY_TLS_CA"));
    if (proxy) qovery_client_options_set_proxy(o, proxy);
    else qovery_client_options_set_no_proxy(o);
    qovery_client *c = NULL;
    qovery_result *err = NULL;
    if (qovery_client_new(o, &c, &err) != QOVERY_OK) {
        fprintf(stderr, "tls_client: %s\n", qovery_result_message(err));
        exit(2);
    }
    qovery_client_options_free(o);
    return c;
}

#endif
