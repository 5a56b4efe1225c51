/*
 * The C ABI over real HTTPS (qovery-mock --tls) and through a real proxy (tinyproxy): redeploy
 * and wait to DEPLOYED, keep-alive (two calls, one CONNECT tunnel), the TLS-fault listeners
 * (QOVERY_ERR_TLS, one handshake attempt with max_retries 2, nothing reaches the app), bad CA
 * bundles and proxy URLs (QOVERY_ERR_INVALID_ARGUMENT at qovery_client_new), a dead proxy
 * (QOVERY_ERR_NETWORK, retried, nothing sent, credentials never shown). Environment: see
 * tls_util.h. Run with ASan+UBSan by tests/CMakeLists.txt.
 */
#include "tls_util.h"

#include <time.h>

static const char *SECRET = "s3cretpw";

static void test_redeploy_and_wait(void) {
    char id[37];
    new_db_id(id);
    qovery_client *c = tls_client(need_env("QOVERY_TLS_MOCK_URL"), NULL, 0);
    qovery_redeploy_options ro;
    qovery_redeploy_options_init(&ro);
    qovery_wait_options wo;
    qovery_wait_options_init(&wo);
    wo.timeout_ms = 20000;
    wo.poll_interval_ms = 50;
    wo.settle_delay_ms = 5000;
    qovery_result *r = qovery_redeploy_and_wait(c, id, &ro, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_OK);
    CHECK_STR(qovery_result_state(r), "DEPLOYED");
    CHECK(qovery_result_is_success(r));
    qovery_result_free(r);
    CHECK(tls_mock_count(id, "redeploy") == 1);
    CHECK(tls_mock_count(id, "status") >= 1);
    qovery_client_free(c);
}

static void test_keep_alive_through_the_proxy(void) {
    char id[37];
    new_db_id(id);
    const char *url = need_env("QOVERY_TLS_MOCK_URL");
    int port = url_port(url), before = proxy_connects(port);
    qovery_client *c = tls_client(url, need_env("QOVERY_PROXY_URL"), 0);
    qovery_result *r = qovery_redeploy_database(c, id, NULL);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_OK);
    CHECK_STR(qovery_result_id(r), id);
    qovery_result_free(r);
    qovery_client_free(c);
    CHECK(tls_mock_count(id, "redeploy") == 1);
    CHECK(tls_mock_count(id, "status") == 1);
    /* one CONNECT tunnel (= one TLS connection) for both calls */
    CHECK(proxy_connects(port) - before == 1);
}

static void test_tls_faults(void) {
    static const char *vars[] = {"QOVERY_TLS_UNKNOWN_CA", "QOVERY_TLS_WRONG_HOST", "QOVERY_TLS_EXPIRED"};
    for (size_t i = 0; i < 3; i++) {
        char id[37];
        new_db_id(id);
        const char *url = need_env(vars[i]);
        /* directly */
        qovery_client *c = tls_client(url, NULL, 2);
        qovery_result *r = qovery_redeploy_database(c, id, NULL);
        CHECK_CODE(r, QOVERY_ERR_TLS);
        CHECK(!qovery_result_has_status(r));
        CHECK(qovery_result_http_status(r) == 0);
        qovery_result_free(r);
        r = qovery_database_status(c, id);
        CHECK_CODE(r, QOVERY_ERR_TLS);
        qovery_result_free(r);
        qovery_client_free(c);
        /* through the proxy, where the handshake attempts are visible as CONNECTs */
        int port = url_port(url), before = proxy_connects(port);
        c = tls_client(url, need_env("QOVERY_PROXY_URL"), 2);
        r = qovery_database_status(c, id);
        CHECK_CODE(r, QOVERY_ERR_TLS);
        qovery_result_free(r);
        qovery_client_free(c);
        if (proxy_connects(port) - before != 1)
            fprintf(stderr, "%s: %d handshake attempts\n", vars[i], proxy_connects(port) - before);
        CHECK(proxy_connects(port) - before == 1);
        CHECK(tls_mock_count(id, "redeploy") == 0);
        CHECK(tls_mock_count(id, "status") == 0);
    }
}

static qovery_code new_client_code(const char *ca_file, const char *proxy, char *message, size_t len) {
    qovery_client_options *o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    qovery_client_options_set_base_url(o, need_env("QOVERY_TLS_MOCK_URL"));
    if (ca_file) qovery_client_options_set_ca_file(o, ca_file);
    if (proxy) qovery_client_options_set_proxy(o, proxy);
    qovery_client *c = (qovery_client *)&c;
    qovery_result *err = NULL;
    qovery_code code = qovery_client_new(o, &c, &err);
    qovery_client_options_free(o);
    if (code == QOVERY_OK) {
        qovery_client_free(c);
    } else {
        CHECK(c == NULL);
        CHECK(err != NULL);
        snprintf(message, len, "%s", qovery_result_message(err));
        qovery_result_free(err);
    }
    return code;
}

static void test_bad_bundles_and_proxy_urls(void) {
    char dir[] = "/tmp/qovery-c-tls-XXXXXX", path[256], message[1024];
    CHECK(mkdtemp(dir) != NULL);
    static const char *contents[] = {NULL, "", "garbage\n",
                                     "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/bundle%zu.pem", dir, i);
        if (contents[i]) {
            FILE *f = fopen(path, "w");
            CHECK(f != NULL);
            if (f) {
                fputs(contents[i], f);
                fclose(f);
            }
        }
        CHECK(new_client_code(path, NULL, message, sizeof message) == QOVERY_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(message, path);
        remove(path);
    }
    rmdir(dir);
    CHECK(new_client_code(need_env("QOVERY_TLS_CA"), NULL, message, sizeof message) == QOVERY_OK);
    CHECK(qovery_client_options_set_ca_file(NULL, "x") == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_proxy(NULL, "x") == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_no_proxy(NULL) == QOVERY_ERR_NULL_PARAMETER);

    static const char *bad[] = {"ftp://x", "not a url", "ftp://u:s3cretpw@127.0.0.1:21"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(new_client_code(NULL, bad[i], message, sizeof message) == QOVERY_ERR_INVALID_ARGUMENT);
        CHECK(strstr(message, SECRET) == NULL);
    }
}

static int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_dead_proxy(void) {
    char id[37], proxy[128];
    new_db_id(id);
    snprintf(proxy, sizeof proxy, "http://user:%s@127.0.0.1:%d", SECRET, dead_port());
    qovery_client *c = tls_client(need_env("QOVERY_TLS_MOCK_URL"), proxy, 2);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    qovery_result *r = qovery_redeploy_database(c, id, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CODE(r, QOVERY_ERR_NETWORK);
    CHECK(strstr(qovery_result_message(r), SECRET) == NULL);
    CHECK_CONTAINS(qovery_result_message(r), "proxy");
    qovery_result_free(r);
    r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_ERR_NETWORK);
    CHECK(strstr(qovery_result_message(r), SECRET) == NULL);
    qovery_result_free(r);
    qovery_client_free(c);
    CHECK(tls_mock_count(id, "redeploy") == 0);
    CHECK(tls_mock_count(id, "status") == 0);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("dead proxy: network error after %.0f ms (retries included)\n", ms);
}

int main(void) {
    test_redeploy_and_wait();
    test_keep_alive_through_the_proxy();
    test_tls_faults();
    test_bad_bundles_and_proxy_urls();
    test_dead_proxy();
    return t_summary("test_tls");
}
