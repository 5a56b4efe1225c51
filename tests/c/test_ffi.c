/*
 * The C test of libqovery_redeploy against qovery-mock (QOVERY_MOCK_URL): version, code
 * table, every error code the mock can provoke, success with every getter, waits with
 * progress and cancel, NULL / invalid arguments. Built with ASan+UBSan and run once under
 * valgrind by tests/CMakeLists.txt. Exit status 0 only if every check passed.
 */
#include "testutil.h"

#include <pthread.h>
#include <time.h>

static const char *WRONG_TOKEN = "wrong-s3cr3t-token-4711";

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------- version, codes */

static void test_version_and_codes(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", QOVERY_VERSION_MAJOR, QOVERY_VERSION_MINOR,
             QOVERY_VERSION_PATCH);
    CHECK_STR(qovery_version(), expected);
    CHECK_STR(qovery_version(), QOVERY_VERSION);
    const char *cargo_version = getenv("QOVERY_EXPECTED_VERSION"); /* from Cargo.toml */
    CHECK(cargo_version != NULL);
    if (cargo_version) CHECK_STR(qovery_version(), cargo_version);

    /* The numbers are ABI: this table must never change, only grow. */
    static const struct { qovery_code code; unsigned number; const char *name; } table[] = {
        {QOVERY_OK, 0, "ok"},
        {QOVERY_ERR_INVALID_ARGUMENT, 1, "invalid_argument"},
        {QOVERY_ERR_NULL_PARAMETER, 2, "null_parameter"},
        {QOVERY_ERR_UNAUTHORIZED, 3, "unauthorized"},
        {QOVERY_ERR_FORBIDDEN, 4, "forbidden"},
        {QOVERY_ERR_NOT_FOUND, 5, "not_found"},
        {QOVERY_ERR_CONFLICT, 6, "conflict"},
        {QOVERY_ERR_RATE_LIMITED, 7, "rate_limited"},
        {QOVERY_ERR_SERVER, 8, "server"},
        {QOVERY_ERR_HTTP, 9, "http"},
        {QOVERY_ERR_TIMEOUT, 10, "timeout"},
        {QOVERY_ERR_NETWORK, 11, "network"},
        {QOVERY_ERR_TLS, 12, "tls"},
        {QOVERY_ERR_DECODE, 13, "decode"},
        {QOVERY_ERR_OUTCOME_UNKNOWN, 14, "outcome_unknown"},
        {QOVERY_ERR_DEPLOYMENT_FAILED, 15, "deployment_failed"},
        {QOVERY_ERR_WAIT_TIMEOUT, 16, "wait_timeout"},
        {QOVERY_ERR_CANCELLED, 17, "cancelled"},
        {QOVERY_ERR_PANIC, 18, "panic"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CHECK((unsigned)table[i].code == table[i].number);
        CHECK_STR(qovery_code_name(table[i].code), table[i].name);
    }
    CHECK_STR(qovery_code_name(19), "unknown");
    CHECK_STR(qovery_code_name(0xFFFFFFFFu), "unknown");
    CHECK(sizeof(qovery_code) == 4);
}

/* ---------------------------------------------------------------- NULL and invalid input */

static void expect_client_error(qovery_client_options *o, qovery_code code, const char *needle) {
    qovery_client *c = (qovery_client *)&c; /* must be overwritten with NULL */
    qovery_result *err = NULL;
    CHECK(qovery_client_new(o, &c, &err) == code);
    CHECK(c == NULL);
    CHECK(err != NULL);
    CHECK_CODE(err, code);
    CHECK_CONTAINS(qovery_result_message(err), needle);
    CHECK(!qovery_result_has_status(err));
    qovery_result_free(err);
}

static void test_client_options(void) {
    /* NULL handles */
    CHECK(qovery_client_options_set_token(NULL, "x") == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_base_url(NULL, "x") == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_auth_scheme(NULL, QOVERY_AUTH_TOKEN) == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_max_retries(NULL, 1) == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_use_env(NULL) == QOVERY_ERR_NULL_PARAMETER);
    qovery_client_options_free(NULL);
    qovery_client_free(NULL);
    qovery_result_free(NULL);
    qovery_cancel_token_free(NULL);

    qovery_client *c = NULL;
    qovery_result *err = NULL;
    CHECK(qovery_client_new(NULL, &c, &err) == QOVERY_ERR_NULL_PARAMETER);
    CHECK_CONTAINS(qovery_result_message(err), "options");
    qovery_result_free(err);
    CHECK(qovery_client_new(NULL, &c, NULL) == QOVERY_ERR_NULL_PARAMETER);

    /* no token at all */
    qovery_client_options *o = qovery_client_options_new();
    CHECK(o != NULL);
    CHECK(qovery_client_options_set_base_url(o, mock_url()) == QOVERY_OK);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "token");
    err = NULL;
    CHECK(qovery_client_new(o, NULL, &err) == QOVERY_ERR_NULL_PARAMETER);
    CHECK_CONTAINS(qovery_result_message(err), "client_out");
    qovery_result_free(err);
    qovery_client_options_free(o);

    /* NULL token: the setter fails, and so does qovery_client_new with the same error */
    o = qovery_client_options_new();
    CHECK(qovery_client_options_set_token(o, NULL) == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_client_options_set_token(o, MOCK_TOKEN) == QOVERY_OK);
    expect_client_error(o, QOVERY_ERR_NULL_PARAMETER, "token is NULL");
    qovery_client_options_free(o);

    /* a token that is not UTF-8 */
    o = qovery_client_options_new();
    CHECK(qovery_client_options_set_token(o, "tok\xff\xfe") == QOVERY_ERR_INVALID_ARGUMENT);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "UTF-8");
    qovery_client_options_free(o);

    /* empty token, token with a space, unknown scheme, bad URL, zero timeout, bad agent */
    const char *bad_tokens[] = {"", "Token abc", "a\r\nInjected: 1"};
    for (size_t i = 0; i < 3; i++) {
        o = qovery_client_options_new();
        CHECK(qovery_client_options_set_token(o, bad_tokens[i]) == QOVERY_OK);
        expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "token");
        qovery_client_options_free(o);
    }
    o = qovery_client_options_new();
    CHECK(qovery_client_options_set_token(o, MOCK_TOKEN) == QOVERY_OK);
    CHECK(qovery_client_options_set_auth_scheme(o, 7) == QOVERY_ERR_INVALID_ARGUMENT);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "auth scheme");
    qovery_client_options_free(o);

    const char *bad_urls[] = {"http://example.com", "", "ftp://127.0.0.1/", "not a url"};
    for (size_t i = 0; i < 4; i++) {
        o = qovery_client_options_new();
        qovery_client_options_set_token(o, MOCK_TOKEN);
        CHECK(qovery_client_options_set_base_url(o, bad_urls[i]) == QOVERY_OK);
        expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "");
        qovery_client_options_free(o);
    }
    o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    qovery_client_options_set_base_url(o, mock_url());
    CHECK(qovery_client_options_set_connect_timeout_ms(o, 0) == QOVERY_OK);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "timeout");
    qovery_client_options_free(o);
    o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    CHECK(qovery_client_options_set_user_agent(o, "bad\nagent") == QOVERY_OK);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "user agent");
    qovery_client_options_free(o);

    /* huge durations are capped, not an overflow */
    o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    qovery_client_options_set_base_url(o, mock_url());
    CHECK(qovery_client_options_set_deadline_ms(o, UINT64_MAX) == QOVERY_OK);
    CHECK(qovery_client_options_set_request_timeout_ms(o, UINT64_MAX) == QOVERY_OK);
    CHECK(qovery_client_options_set_connect_timeout_ms(o, UINT64_MAX) == QOVERY_OK);
    CHECK(qovery_client_options_set_auth_scheme(o, QOVERY_AUTH_BEARER) == QOVERY_OK);
    CHECK(qovery_client_options_set_user_agent(o, "qovery-c-test/1.0") == QOVERY_OK);
    c = NULL;
    CHECK(qovery_client_new(o, &c, NULL) == QOVERY_OK);
    CHECK(c != NULL);
    qovery_client *c2 = NULL; /* one options handle may build several clients */
    CHECK(qovery_client_new(o, &c2, NULL) == QOVERY_OK);
    qovery_client_options_free(o);
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));
    qovery_result *r = qovery_database_status(c, id); /* Bearer is accepted by the mock too */
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    r = qovery_database_status(c2, id);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    qovery_client_free(c);
    qovery_client_free(c2);
}

static void test_env(void) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));

    setenv("QOVERY_API_TOKEN", MOCK_TOKEN, 1);
    setenv("QOVERY_API_URL", mock_url(), 1);
    qovery_client_options *o = qovery_client_options_new();
    CHECK(qovery_client_options_use_env(o) == QOVERY_OK);
    qovery_client *c = NULL;
    CHECK(qovery_client_new(o, &c, NULL) == QOVERY_OK);
    qovery_result *r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    qovery_client_free(c);

    /* an explicit setting wins over the environment */
    CHECK(qovery_client_options_set_token(o, WRONG_TOKEN) == QOVERY_OK);
    CHECK(qovery_client_new(o, &c, NULL) == QOVERY_OK);
    r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_ERR_UNAUTHORIZED);
    qovery_result_free(r);
    qovery_client_free(c);
    qovery_client_options_free(o);

    unsetenv("QOVERY_API_TOKEN");
    o = qovery_client_options_new();
    qovery_client_options_use_env(o);
    expect_client_error(o, QOVERY_ERR_INVALID_ARGUMENT, "QOVERY_API_TOKEN");
    qovery_client_options_free(o);
    unsetenv("QOVERY_API_URL");
}

static void test_call_arguments(qovery_client *c) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));

    qovery_result *r = qovery_redeploy_database(NULL, id, NULL);
    CHECK(r != NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    CHECK_STR(qovery_result_message(r), "client is NULL");
    qovery_result_free(r);

    r = qovery_redeploy_database(c, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    CHECK_CONTAINS(qovery_result_message(r), "database_id");
    qovery_result_free(r);

    const char *bad_ids[] = {"", "not-a-uuid", "../../etc/passwd",
                             "3c90c3cc-0d44-4b50-8888-8dd25736052a/../x",
                             "3c90c3cc-0d44-4b50-8888-8dd25736052g"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        r = qovery_redeploy_database(c, bad_ids[i], NULL);
        CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(qovery_result_message(r), "database id");
        qovery_result_free(r);
        r = qovery_database_status(c, bad_ids[i]);
        CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
        qovery_result_free(r);
        r = qovery_wait_for_database(c, bad_ids[i], NULL, NULL, NULL);
        CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
        qovery_result_free(r);
    }
    r = qovery_redeploy_database(c, "3c90c3cc-0d44-4b50-8888-\xff\xfe\xfd", NULL);
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(qovery_result_message(r), "database_id is not valid UTF-8");
    qovery_result_free(r);
    r = qovery_database_status(NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    qovery_result_free(r);
    r = qovery_wait_for_database(c, NULL, NULL, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    qovery_result_free(r);
    r = qovery_redeploy_and_wait(NULL, id, NULL, NULL, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    qovery_result_free(r);

    /* options structs: wrong size, bad enum value */
    qovery_redeploy_options ro;
    memset(&ro, 0, sizeof ro);
    r = qovery_redeploy_database(c, id, &ro); /* struct_size 0: never initialised */
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(qovery_result_message(r), "struct_size");
    qovery_result_free(r);
    ro.struct_size = sizeof ro - 1;
    r = qovery_redeploy_database(c, id, &ro);
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    qovery_result_free(r);
    qovery_redeploy_options_init(&ro);
    CHECK(ro.struct_size == sizeof ro);
    CHECK(ro.apply_immediately == QOVERY_APPLY_IMMEDIATELY_UNSET && ro.cancel == NULL);
    ro.apply_immediately = 3;
    r = qovery_redeploy_database(c, id, &ro);
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(qovery_result_message(r), "apply_immediately");
    qovery_result_free(r);
    qovery_redeploy_options_init(NULL);

    qovery_wait_options wo;
    qovery_wait_options_init(&wo);
    CHECK(wo.struct_size == sizeof wo);
    CHECK(wo.timeout_ms == 1800000 && wo.poll_interval_ms == 3000 && wo.settle_delay_ms == 10000);
    CHECK(wo.cancel == NULL && wo.accepted == NULL);
    wo.struct_size = 8;
    r = qovery_wait_for_database(c, id, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    qovery_result_free(r);
    qovery_wait_options_init(&wo);
    qovery_result *bad = qovery_redeploy_database(NULL, id, NULL); /* an error result */
    wo.accepted = bad;
    r = qovery_wait_for_database(c, id, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(qovery_result_message(r), "accepted");
    qovery_result_free(r);
    qovery_result_free(bad);
    qovery_wait_options_init(NULL);

    /* none of the refused calls reached the server */
    CHECK(mock_count(id, "redeploy") == 0);
    CHECK(mock_count(id, "status") == 0);

    /* getters on NULL and on an error result */
    CHECK(qovery_result_code(NULL) == QOVERY_ERR_NULL_PARAMETER);
    CHECK(qovery_result_message(NULL) == NULL);
    CHECK(qovery_result_state(NULL) == NULL);
    CHECK(qovery_result_raw_json(NULL) == NULL);
    CHECK(qovery_result_http_status(NULL) == 0);
    CHECK(qovery_result_step_count(NULL) == 0);
    CHECK(!qovery_result_has_status(NULL));
    CHECK(!qovery_result_is_success(NULL));
    uint64_t u = 42;
    int64_t n = 42;
    CHECK(!qovery_result_deployment_requests_count(NULL, &n));
    CHECK(n == 42);
    CHECK(!qovery_cancel_token_is_cancelled(NULL));
    CHECK(qovery_cancel_token_cancel(NULL) == QOVERY_ERR_NULL_PARAMETER);

    r = qovery_redeploy_database(c, "nope", NULL);
    CHECK(!qovery_result_has_status(r));
    CHECK(qovery_result_state(r) == NULL);
    CHECK(qovery_result_id(r) == NULL);
    CHECK(qovery_result_detail(r) == NULL);
    CHECK(!qovery_result_deployment_requests_count(r, &n));
    CHECK(n == 42);
    CHECK(!qovery_result_retry_after_ms(r, &u));
    CHECK(qovery_result_step_name(r, 0) == NULL);
    qovery_result_free(r);
}

/* ---------------------------------------------------------------- success */

static int is_uuid(const char *s) {
    if (s == NULL || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

static void test_success(qovery_client *c) {
    char id[37], path[128], body[8192];
    new_db_id(id);
    /* slow enough that the first deployment still runs when the second redeploy comes */
    CHECK(mock_database(id, "{\"tick_ms\": 3000}"));

    qovery_redeploy_options ro;
    qovery_redeploy_options_init(&ro);
    ro.apply_immediately = QOVERY_APPLY_IMMEDIATELY_TRUE;
    qovery_result *r = qovery_redeploy_database(c, id, &ro);
    CHECK_CODE(r, QOVERY_OK);
    CHECK_STR(qovery_result_message(r), "");
    CHECK(qovery_result_detail(r) == NULL);
    CHECK(qovery_result_http_status(r) == 0);
    CHECK(qovery_result_has_status(r));
    CHECK_STR(qovery_result_id(r), id);
    CHECK_STR(qovery_result_state(r), "QUEUED");
    CHECK(!qovery_result_is_success(r) && !qovery_result_is_failure(r) && !qovery_result_is_terminal(r));
    CHECK_STR(qovery_result_service_deployment_status(r), "OUT_OF_DATE");
    CHECK_STR(qovery_result_status_details_action(r), "DEPLOY");
    CHECK_STR(qovery_result_status_details_status(r), "QUEUED");
    CHECK_STR(qovery_result_status_details_sub_action(r), "NONE");
    CHECK(is_uuid(qovery_result_deployment_request_id(r)));
    CHECK(qovery_result_execution_id(r) != NULL);
    int64_t count = 0;
    CHECK(qovery_result_deployment_requests_count(r, &count));
    CHECK(count == 1);
    bool part = false;
    CHECK(qovery_result_is_part_last_deployment(r, &part));
    CHECK(part);
    CHECK(qovery_result_last_deployment_date(r) != NULL);
    int64_t unix_time = 0;
    CHECK(qovery_result_last_deployment_unix(r, &unix_time));
    CHECK(unix_time > 1700000000);
    CHECK(!qovery_result_deployment_requests_count(r, NULL)); /* NULL out */
    CHECK(qovery_result_has_steps(r));
    int64_t total = 99;
    CHECK(!qovery_result_steps_total_duration_sec(r, &total)); /* null until completed */
    CHECK(total == 99);
    CHECK_CONTAINS(qovery_result_raw_json(r), "\"state\":\"QUEUED\"");
    CHECK_CONTAINS(qovery_result_raw_json(r), id);
    snprintf(path, sizeof path, "/_mock/databases/%s", id);
    CHECK(mock_request("GET", path, NULL, body, sizeof body) == 200);
    CHECK_CONTAINS(body, "\"last_apply_immediately\":true");

    /* status of the same database: same deployment request */
    qovery_result *s = qovery_database_status(c, id);
    CHECK_CODE(s, QOVERY_OK);
    CHECK_STR(qovery_result_deployment_request_id(s), qovery_result_deployment_request_id(r));
    qovery_result_free(s);

    /* apply_immediately=false is sent as such */
    ro.apply_immediately = QOVERY_APPLY_IMMEDIATELY_FALSE;
    s = qovery_redeploy_database(c, id, &ro);
    CHECK_CODE(s, QOVERY_OK);
    CHECK(qovery_result_deployment_requests_count(s, &count) && count == 2);
    CHECK(mock_request("GET", path, NULL, body, sizeof body) == 200);
    CHECK_CONTAINS(body, "\"last_apply_immediately\":false");
    qovery_result_free(s);
    qovery_result_free(r);
    CHECK(mock_count(id, "redeploy") == 2);
}

struct progress_log {
    int calls;
    char states[32][40];
    qovery_belongs belongs[32];
    char summaries[32][160];
    int cancel_at; /* cancel when this state is reported; -1: never */
    const char *cancel_state;
    int bad_free; /* try to free the borrowed view (must be a no-op) */
};

static int on_progress(const qovery_result *status, void *user_data) {
    struct progress_log *log = user_data;
    CHECK(qovery_result_code(status) == QOVERY_OK);
    CHECK(qovery_result_has_status(status));
    const char *state = qovery_result_state(status);
    CHECK(state != NULL);
    if (log->calls < 32) {
        snprintf(log->states[log->calls], sizeof log->states[0], "%s", state);
        log->belongs[log->calls] = qovery_result_belongs(status);
        const char *summary = qovery_result_summary(status);
        CHECK(summary != NULL);
        snprintf(log->summaries[log->calls], sizeof log->summaries[0], "%s", summary ? summary : "");
    }
    log->calls++;
    if (log->bad_free) qovery_result_free((qovery_result *)status);
    return log->cancel_state != NULL && state != NULL && strcmp(state, log->cancel_state) == 0;
}

static void test_wait(qovery_client *c) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{\"tick_ms\": 100}"));

    /* redeploy, then wait for that deployment, with progress */
    qovery_result *accepted = qovery_redeploy_database(c, id, NULL);
    CHECK_CODE(accepted, QOVERY_OK);
    qovery_wait_options wo;
    qovery_wait_options_init(&wo);
    wo.poll_interval_ms = 20;
    wo.timeout_ms = 20000;
    wo.accepted = accepted;
    struct progress_log log;
    memset(&log, 0, sizeof log);
    log.bad_free = 1;
    qovery_result *r = qovery_wait_for_database(c, id, &wo, on_progress, &log);
    CHECK_CODE(r, QOVERY_OK);
    CHECK(qovery_result_is_success(r) && qovery_result_is_terminal(r) && !qovery_result_is_failure(r));
    CHECK_STR(qovery_result_state(r), "DEPLOYED");
    CHECK_STR(qovery_result_status_details_status(r), "SUCCESS");
    CHECK_STR(qovery_result_deployment_request_id(r), qovery_result_deployment_request_id(accepted));
    int64_t total = 0, computing = 0, dur = 0;
    CHECK(qovery_result_steps_total_duration_sec(r, &total));
    CHECK(qovery_result_steps_total_computing_duration_sec(r, &computing));
    size_t steps = qovery_result_step_count(r);
    CHECK(steps >= 1);
    for (size_t i = 0; i < steps; i++) {
        CHECK(qovery_result_step_name(r, i) != NULL);
        CHECK_STR(qovery_result_step_status(r, i), "SUCCESS");
        CHECK(qovery_result_step_duration_sec(r, i, &dur));
    }
    CHECK(qovery_result_step_name(r, steps) == NULL);
    CHECK(qovery_result_step_status(r, (size_t)-1) == NULL);
    CHECK(!qovery_result_step_duration_sec(r, steps, &dur));
    CHECK(log.calls >= 2 && log.calls <= 5);
    CHECK_STR(log.states[log.calls - 1], "DEPLOYED");
    int saw_deploying = 0;
    for (int i = 0; i < log.calls && i < 32; i++) saw_deploying |= strcmp(log.states[i], "DEPLOYING") == 0;
    CHECK(saw_deploying);
    qovery_result_free(r);
    qovery_result_free(accepted);

    /* redeploy_and_wait reports the 202 status first */
    memset(&log, 0, sizeof log);
    qovery_wait_options_init(&wo);
    wo.poll_interval_ms = 20;
    wo.timeout_ms = 20000;
    r = qovery_redeploy_and_wait(c, id, NULL, &wo, on_progress, &log);
    CHECK_CODE(r, QOVERY_OK);
    CHECK_STR(qovery_result_state(r), "DEPLOYED");
    CHECK(log.calls >= 2);
    CHECK_STR(log.states[0], "QUEUED");
    CHECK(log.belongs[0] == QOVERY_BELONGS_OURS);
    CHECK_STR(log.summaries[0], "QUEUED (DEPLOY QUEUED)");
    CHECK(log.belongs[log.calls - 1] == QOVERY_BELONGS_OURS);
    CHECK(qovery_result_belongs(r) == QOVERY_BELONGS_UNKNOWN); /* not a progress view */
    CHECK_STR(qovery_result_summary(r), "DEPLOYED (DEPLOY SUCCESS)");
    CHECK(qovery_result_belongs(NULL) == QOVERY_BELONGS_UNKNOWN);
    CHECK(qovery_result_summary(NULL) == NULL);
    qovery_result_free(r);

    /* a redeploy queued behind a running deployment: its statuses are reported as earlier */
    char stale[37];
    new_db_id(stale);
    CHECK(mock_database(stale, "{\"tick_ms\": 50, \"stale_polls\": 3}"));
    memset(&log, 0, sizeof log);
    r = qovery_redeploy_and_wait(c, stale, NULL, &wo, on_progress, &log);
    CHECK_CODE(r, QOVERY_OK);
    int saw_earlier = 0;
    for (int i = 0; i < log.calls && i < 32; i++) {
        if (log.belongs[i] == QOVERY_BELONGS_EARLIER) {
            saw_earlier = 1;
            CHECK_CONTAINS(log.summaries[i], ", an earlier request)");
        }
    }
    CHECK(saw_earlier);
    CHECK(log.belongs[log.calls - 1] == QOVERY_BELONGS_OURS);
    qovery_result_free(r);

    /* no callback at all */
    r = qovery_redeploy_and_wait(c, id, NULL, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);

    /* the callback cancels: QOVERY_ERR_CANCELLED holding the status it saw */
    memset(&log, 0, sizeof log);
    log.cancel_state = "DEPLOYING";
    r = qovery_redeploy_and_wait(c, id, NULL, &wo, on_progress, &log);
    CHECK_CODE(r, QOVERY_ERR_CANCELLED);
    CHECK(qovery_result_has_status(r));
    CHECK_STR(qovery_result_state(r), "DEPLOYING");
    CHECK_STR(log.states[log.calls - 1], "DEPLOYING");
    qovery_result_free(r);
}

struct canceller {
    qovery_cancel_token *token;
    int delay_ms;
};

static void *cancel_later(void *arg) {
    struct canceller *cl = arg;
    struct timespec ts = {cl->delay_ms / 1000, (long)(cl->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    CHECK(qovery_cancel_token_cancel(cl->token) == QOVERY_OK);
    return NULL;
}

static void test_cancel_token(qovery_client *c) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{\"tick_ms\": 60000}"));

    /* cancelled from another thread while the wait sleeps between polls */
    struct canceller cl = {qovery_cancel_token_new(), 300};
    CHECK(cl.token != NULL);
    CHECK(!qovery_cancel_token_is_cancelled(cl.token));
    qovery_wait_options wo;
    qovery_wait_options_init(&wo);
    wo.poll_interval_ms = 10000;
    wo.cancel = cl.token;
    pthread_t t;
    double start = now_ms();
    CHECK(pthread_create(&t, NULL, cancel_later, &cl) == 0);
    qovery_result *r = qovery_redeploy_and_wait(c, id, NULL, &wo, NULL, NULL);
    double took = now_ms() - start;
    pthread_join(t, NULL);
    CHECK_CODE(r, QOVERY_ERR_CANCELLED);
    CHECK(qovery_result_has_status(r)); /* the last status seen */
    CHECK(took >= 250 && took < 5000);
    CHECK(qovery_cancel_token_is_cancelled(cl.token));
    qovery_result_free(r);

    /* cancelled while blocked on a slow answer */
    qovery_cancel_token_free(cl.token);
    cl.token = qovery_cancel_token_new();
    CHECK(mock_fault(id, "{\"on\":\"status\",\"kind\":\"slow_headers\",\"delay_ms\":5000}") == 200);
    wo.cancel = cl.token;
    wo.poll_interval_ms = 10;
    start = now_ms();
    CHECK(pthread_create(&t, NULL, cancel_later, &cl) == 0);
    r = qovery_wait_for_database(c, id, &wo, NULL, NULL);
    took = now_ms() - start;
    pthread_join(t, NULL);
    CHECK_CODE(r, QOVERY_ERR_CANCELLED);
    CHECK(took >= 250 && took < 4000);
    /* The figure RELIABILITY.md quotes (bounded loosely here: valgrind runs this test too). */
    printf("cancel latency in the middle of a request (C token): %.1f ms\n", took - cl.delay_ms);
    qovery_result_free(r);

    /* an already cancelled token: nothing is sent */
    long before = mock_count(id, "redeploy");
    qovery_redeploy_options ro;
    qovery_redeploy_options_init(&ro);
    ro.cancel = cl.token;
    r = qovery_redeploy_database(c, id, &ro);
    CHECK_CODE(r, QOVERY_ERR_CANCELLED);
    qovery_result_free(r);
    CHECK(mock_count(id, "redeploy") == before);
    qovery_cancel_token_free(cl.token);
}

/* ---------------------------------------------------------------- every error code */

static void check_no_token(const qovery_result *r) {
    const char *m = qovery_result_message(r);
    CHECK(m != NULL && strstr(m, MOCK_TOKEN) == NULL && strstr(m, WRONG_TOKEN) == NULL);
    const char *d = qovery_result_detail(r);
    CHECK(d == NULL || (strstr(d, MOCK_TOKEN) == NULL && strstr(d, WRONG_TOKEN) == NULL));
}

/* Registers a database with one fault and runs one call on it. */
static qovery_result *with_fault(qovery_client *c, const char *fault, int redeploy) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));
    if (fault) CHECK(mock_fault(id, fault) == 200);
    qovery_result *r = redeploy ? qovery_redeploy_database(c, id, NULL) : qovery_database_status(c, id);
    check_no_token(r);
    return r;
}

static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd); /* bound but never listening: connecting is refused */
    return port;
}

static qovery_client *client_at(const char *url, uint32_t retries) {
    qovery_client_options *o = qovery_client_options_new();
    qovery_client_options_set_token(o, MOCK_TOKEN);
    qovery_client_options_set_base_url(o, url);
    qovery_client_options_set_max_retries(o, retries);
    qovery_client_options_set_request_timeout_ms(o, 2000);
    qovery_client *c = NULL;
    qovery_result *err = NULL;
    CHECK(qovery_client_new(o, &c, &err) == QOVERY_OK);
    if (err) fprintf(stderr, "client_at(%s): %s\n", url, qovery_result_message(err));
    qovery_result_free(err);
    qovery_client_options_free(o);
    return c;
}

static void test_error_codes(qovery_client *strict) {
    qovery_result *r;
    uint64_t ms = 0;

    /* 401: wrong token; the message never shows it */
    qovery_client *wrong = mock_client(WRONG_TOKEN, 0, 0);
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));
    r = qovery_redeploy_database(wrong, id, NULL);
    CHECK_CODE(r, QOVERY_ERR_UNAUTHORIZED);
    CHECK(qovery_result_http_status(r) == 401);
    CHECK_CONTAINS(qovery_result_message(r), "401");
    check_no_token(r);
    qovery_result_free(r);
    qovery_client_free(wrong);
    /* the mock counted the request but started no deployment */
    char path[128], body[8192];
    snprintf(path, sizeof path, "/_mock/databases/%s", id);
    CHECK(mock_request("GET", path, NULL, body, sizeof body) == 200);
    CHECK_CONTAINS(body, "\"deployments_started\":0");
    CHECK(mock_count(id, "redeploy") == 1);

    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"http\",\"code\":403,\"detail\":\"no rights on it\"}", 1);
    CHECK_CODE(r, QOVERY_ERR_FORBIDDEN);
    CHECK(qovery_result_http_status(r) == 403);
    CHECK_STR(qovery_result_detail(r), "no rights on it");
    CHECK_CONTAINS(qovery_result_message(r), "no rights on it");
    qovery_result_free(r);

    new_db_id(id); /* never registered */
    r = qovery_redeploy_database(strict, id, NULL);
    CHECK_CODE(r, QOVERY_ERR_NOT_FOUND);
    CHECK(qovery_result_http_status(r) == 404);
    CHECK_CONTAINS(qovery_result_detail(r), "not found");
    qovery_result_free(r);
    r = qovery_wait_for_database(strict, id, NULL, NULL, NULL); /* a definite answer ends a wait */
    CHECK_CODE(r, QOVERY_ERR_NOT_FOUND);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"http\",\"code\":409,\"detail\":\"DeploymentConflict\"}", 1);
    CHECK_CODE(r, QOVERY_ERR_CONFLICT);
    CHECK(qovery_result_http_status(r) == 409);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"http\",\"code\":400,\"detail\":\"ActionAlreadyInProgress: an action is in progress\"}", 1);
    CHECK_CODE(r, QOVERY_ERR_CONFLICT);
    CHECK(qovery_result_http_status(r) == 400);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"rate_limit\",\"retry_after\":\"7\"}", 0);
    CHECK_CODE(r, QOVERY_ERR_RATE_LIMITED);
    CHECK(qovery_result_http_status(r) == 429);
    CHECK(qovery_result_retry_after_ms(r, &ms));
    CHECK(ms == 7000);
    CHECK(!qovery_result_retry_after_ms(r, NULL));
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"http\",\"code\":503,\"always\":true}", 0);
    CHECK_CODE(r, QOVERY_ERR_SERVER);
    CHECK(qovery_result_http_status(r) == 503);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"http\",\"code\":500,\"style\":\"html\"}", 0);
    CHECK_CODE(r, QOVERY_ERR_SERVER);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"http\",\"code\":418}", 0);
    CHECK_CODE(r, QOVERY_ERR_HTTP);
    CHECK(qovery_result_http_status(r) == 418);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"redirect\",\"code\":302,\"location\":\"http://127.0.0.1:1/elsewhere\"}", 1);
    CHECK_CODE(r, QOVERY_ERR_HTTP);
    CHECK(qovery_result_http_status(r) == 302);
    CHECK_CONTAINS(qovery_result_message(r), "redirect");
    qovery_result_free(r);

    /* slow answer to a GET: a timeout (request timeout of `strict` is 500 ms) */
    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"slow_headers\",\"delay_ms\":3000}", 0);
    CHECK_CODE(r, QOVERY_ERR_TIMEOUT);
    qovery_result_free(r);

    /* slow answer to the redeploy: it may have been processed */
    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"slow_headers\",\"delay_ms\":3000}", 1);
    CHECK_CODE(r, QOVERY_ERR_OUTCOME_UNKNOWN);
    CHECK_CONTAINS(qovery_result_message(r), "may have been processed");
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"redeploy\",\"kind\":\"reset\"}", 1);
    CHECK_CODE(r, QOVERY_ERR_OUTCOME_UNKNOWN);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"malformed_json\"}", 0);
    CHECK_CODE(r, QOVERY_ERR_DECODE);
    CHECK(qovery_result_http_status(r) == 200);
    qovery_result_free(r);

    r = with_fault(strict, "{\"on\":\"status\",\"kind\":\"truncated_body\"}", 0);
    CHECK(qovery_result_code(r) != QOVERY_OK);
    qovery_result_free(r);

    /* connection refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    qovery_client *nowhere = client_at(url, 0);
    new_db_id(id);
    r = qovery_database_status(nowhere, id);
    CHECK_CODE(r, QOVERY_ERR_NETWORK);
    CHECK(qovery_result_http_status(r) == 0);
    qovery_result_free(r);
    qovery_client_free(nowhere);

    /* TLS to a plain HTTP server: the handshake fails */
    snprintf(url, sizeof url, "https://127.0.0.1:%d", mock_port());
    qovery_client *tls = client_at(url, 0);
    r = qovery_database_status(tls, id);
    CHECK_CODE(r, QOVERY_ERR_TLS);
    qovery_result_free(r);
    qovery_client_free(tls);

    /* the deployment fails */
    new_db_id(id);
    CHECK(mock_database(id, "{\"tick_ms\": 50, \"outcome\": \"DEPLOYMENT_ERROR\"}"));
    qovery_wait_options wo;
    qovery_wait_options_init(&wo);
    wo.poll_interval_ms = 20;
    wo.timeout_ms = 20000;
    r = qovery_redeploy_and_wait(strict, id, NULL, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_DEPLOYMENT_FAILED);
    CHECK(qovery_result_has_status(r));
    CHECK_STR(qovery_result_state(r), "DEPLOYMENT_ERROR");
    CHECK(qovery_result_is_failure(r) && qovery_result_is_terminal(r) && !qovery_result_is_success(r));
    CHECK_STR(qovery_result_status_details_status(r), "ERROR");
    CHECK_CONTAINS(qovery_result_message(r), "DEPLOYMENT_ERROR");
    qovery_result_free(r);

    /* the wait's own timeout */
    new_db_id(id);
    CHECK(mock_database(id, "{\"tick_ms\": 60000}"));
    wo.timeout_ms = 1000;
    double start = now_ms();
    r = qovery_redeploy_and_wait(strict, id, NULL, &wo, NULL, NULL);
    double took = now_ms() - start;
    CHECK_CODE(r, QOVERY_ERR_WAIT_TIMEOUT);
    CHECK(qovery_result_has_status(r));
    CHECK_STR(qovery_result_state(r), "QUEUED");
    /* ends by its timeout (the last poll may come a little before it), not long after */
    if (!(took >= 500 && took < 3000)) fprintf(stderr, "a 1000 ms wait took %.0f ms\n", took);
    CHECK(took >= 500 && took < 3000);
    CHECK(mock_count(id, "status") >= 5); /* it kept polling every 20 ms meanwhile */
    qovery_result_free(r);

    /* an unknown future state is kept verbatim and does not end the wait */
    new_db_id(id);
    CHECK(mock_database(id, "{\"tick_ms\": 60000}"));
    CHECK(mock_fault(id, "{\"on\":\"status\",\"kind\":\"patch\",\"set\":{\"state\":\"FUTURE_STATE\"},\"always\":true}") == 200);
    r = qovery_wait_for_database(strict, id, &wo, NULL, NULL);
    CHECK_CODE(r, QOVERY_ERR_WAIT_TIMEOUT);
    CHECK_STR(qovery_result_state(r), "FUTURE_STATE");
    CHECK(!qovery_result_is_terminal(r));
    qovery_result_free(r);
}

/* Transient failures are retried by a client with retries (the default client has 2). */
static void test_retries(qovery_client *c) {
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));
    CHECK(mock_fault(id, "{\"on\":\"status\",\"kind\":\"http\",\"code\":503,\"times\":2}") == 200);
    qovery_result *r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    CHECK(mock_count(id, "status") == 3);
}

/* The tolerant reader through the C ABI, without I/O. */
static void test_status_from_json(void) {
    qovery_result *r = qovery_status_from_json(
        "{\"state\":\"DEPLOYING\",\"id\":\"not-a-uuid\",\"deployment_requests_count\":-74768455,"
        "\"steps\":{\"total_duration_sec\":99999999999999999999,\"total_computing_duration_sec\":-3,"
        "\"details\":[{\"duration_sec\":\"x\"}]},\"brand_new\":[1]}");
    CHECK_CODE(r, QOVERY_OK);
    CHECK_STR(qovery_result_state(r), "DEPLOYING");
    CHECK(!qovery_result_accepted_unreadable(r));
    CHECK(qovery_result_id(r) == NULL);
    int64_t n = 0;
    CHECK(qovery_result_deployment_requests_count(r, &n) && n == -74768455);
    CHECK(!qovery_result_steps_total_duration_sec(r, &n)); /* beyond int64_t: unknown */
    CHECK(qovery_result_steps_total_computing_duration_sec(r, &n) && n == -3);
    CHECK(qovery_result_step_count(r) == 1);
    CHECK(!qovery_result_step_duration_sec(r, 0, &n));
    CHECK(qovery_result_status_details_action(r) == NULL);
    qovery_result_free(r);
    r = qovery_status_from_json("[]");
    CHECK_CODE(r, QOVERY_ERR_DECODE);
    CHECK(!qovery_result_has_status(r));
    qovery_result_free(r);
    r = qovery_status_from_json("{\"state\": 1}");
    CHECK_CODE(r, QOVERY_ERR_DECODE);
    qovery_result_free(r);
    r = qovery_status_from_json(NULL);
    CHECK_CODE(r, QOVERY_ERR_NULL_PARAMETER);
    qovery_result_free(r);
}

/* The log callback: the records Python's logging gets, never the token, and none once off. */
struct log_sink {
    pthread_mutex_t lock;
    int records, debug, warn, with_token, bad_target;
    char last[512];
};

static void on_log(void *user_data, qovery_log_level level, const char *target, const char *message) {
    struct log_sink *sink = user_data;
    pthread_mutex_lock(&sink->lock);
    sink->records++;
    if (level == QOVERY_LOG_DEBUG) sink->debug++;
    if (level == QOVERY_LOG_WARN) sink->warn++;
    if (strstr(message, MOCK_TOKEN)) sink->with_token++;
    if (strncmp(target, "qovery_redeploy", 15) != 0) sink->bad_target++;
    snprintf(sink->last, sizeof sink->last, "%s", message);
    pthread_mutex_unlock(&sink->lock);
}

static void test_log_callback(qovery_client *c) {
    struct log_sink sink = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, ""};
    char id[37];
    new_db_id(id);
    CHECK(mock_database(id, "{}"));
    CHECK(qovery_log_set_callback(99, on_log, &sink) == QOVERY_ERR_INVALID_ARGUMENT);
    CHECK(qovery_log_set_callback(QOVERY_LOG_DEBUG, on_log, &sink) == QOVERY_OK);
    /* a retried 503: a warning (the retry) and debug lines (each attempt) */
    CHECK(mock_fault(id, "{\"on\":\"status\",\"kind\":\"http\",\"code\":503,\"times\":1}") == 200);
    qovery_result *r = qovery_database_status(c, id);
    CHECK_CODE(r, QOVERY_OK);
    qovery_result_free(r);
    CHECK(sink.debug >= 2);
    CHECK(sink.warn == 1);
    CHECK(sink.with_token == 0);
    CHECK(sink.bad_target == 0);
    CHECK(strstr(sink.last, "/status") != NULL);
    /* warnings only: the debug lines stop */
    int debug_before = sink.debug;
    CHECK(qovery_log_set_callback(QOVERY_LOG_WARN, on_log, &sink) == QOVERY_OK);
    r = qovery_database_status(c, id);
    qovery_result_free(r);
    CHECK(sink.debug == debug_before);
    /* off: nothing more */
    CHECK(qovery_log_set_callback(QOVERY_LOG_DEBUG, NULL, NULL) == QOVERY_OK);
    int before = sink.records;
    r = qovery_database_status(c, id);
    qovery_result_free(r);
    CHECK(sink.records == before);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK(mock_request("GET", "/_mock/health", NULL, NULL, 0) == 200);
    qovery_client *c = mock_client(MOCK_TOKEN, 2, 0);
    qovery_client *strict = mock_client(MOCK_TOKEN, 0, 500);

    test_version_and_codes();
    test_status_from_json();
    test_client_options();
    test_env();
    test_call_arguments(c);
    test_success(c);
    test_wait(c);
    test_cancel_token(c);
    test_error_codes(strict);
    test_retries(c);
    test_log_callback(c);

    qovery_client_free(strict);
    qovery_client_free(c);
    return t_summary("test_ffi");
}
