/*
 * Soak test of the C ABI: T threads share ONE qovery_client and make N calls each against
 * qovery-mock (QOVERY_MOCK_URL, token QOVERY_MOCK_TOKEN), one call in F with a fault injected
 * just before it. Every result is accounted for twice: the code each call returned must be the
 * one its fault (or no fault) implies, and at the end the requests the mock counted for each
 * thread's database must equal the sum of what every call implies (1 redeploy POST per
 * redeploy, 2 when a 429 was retried, ...). The whole run is bounded (--max-seconds, SIGALRM).
 *
 *   soak [--threads 16] [--calls 2000] [--fault-every 8] [--wait-every 25] [--max-seconds 600]
 *
 * Built with ASan+UBSan (LeakSanitizer at exit) and run plain under valgrind by
 * scripts/test-reliability.sh. Exit status 0 only if every call and every count matched.
 */
#include "../c/testutil.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

enum call { REDEPLOY, STATUS, WAIT };

/* What a fault does to one call: the code it must return and the requests it costs. */
struct fault {
    enum call call;
    const char *json; /* NULL: no fault */
    qovery_code code;
    int posts, gets;
    /* QOVERY_OK with qovery_result_accepted_unreadable(): a 2xx redeploy whose body was lost */
    int accepted_unreadable;
};

static const struct fault MENU[] = {
    {STATUS, "{\"on\":\"status\",\"kind\":\"http\",\"code\":503}", QOVERY_OK, 0, 2, 0},
    {STATUS, "{\"on\":\"status\",\"kind\":\"reset\"}", QOVERY_OK, 0, 2, 0},
    {STATUS, "{\"on\":\"status\",\"kind\":\"truncated_body\"}", QOVERY_OK, 0, 2, 0},
    {STATUS, "{\"on\":\"status\",\"kind\":\"malformed_json\"}", QOVERY_ERR_DECODE, 0, 1, 0},
    {STATUS, "{\"on\":\"status\",\"kind\":\"http\",\"code\":404}", QOVERY_ERR_NOT_FOUND, 0, 1, 0},
    {STATUS, "{\"on\":\"status\",\"kind\":\"http\",\"code\":401}", QOVERY_ERR_UNAUTHORIZED, 0, 1, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"rate_limit\",\"retry_after\":\"0\"}", QOVERY_OK, 2, 0, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"http\",\"code\":409}", QOVERY_ERR_CONFLICT, 1, 0, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"reset\"}", QOVERY_ERR_OUTCOME_UNKNOWN, 1, 0, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"http\",\"code\":502,\"style\":\"html\"}", QOVERY_ERR_SERVER, 1, 0, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"slow_headers\",\"delay_ms\":30}", QOVERY_OK, 1, 0, 0},
    {REDEPLOY, "{\"on\":\"redeploy\",\"kind\":\"huge_body\",\"bytes\":2000000}", QOVERY_OK, 1, 0, 1},
    {WAIT, "{\"on\":\"status\",\"kind\":\"http\",\"code\":500,\"times\":2}", QOVERY_OK, 1, 3, 0},
};
#define MENU_LEN (sizeof MENU / sizeof MENU[0])

static int threads = 16, calls = 2000, fault_every = 8, wait_every = 25, max_seconds = 600;
static const char *token;
static qovery_client *client;

struct worker {
    int index;
    char id[37];
    long posts, gets; /* what the mock must have counted */
    int ok, expected_errors, unexpected, faults;
    double *latency_ms;
    char first_error[512];
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int progress(const qovery_result *status, void *user_data) {
    (void)user_data;
    return qovery_result_state(status) == NULL; /* read a field; never stop */
}

static void *work(void *arg) {
    struct worker *w = arg;
    qovery_wait_options wait;
    qovery_wait_options_init(&wait);
    wait.timeout_ms = 20000;
    wait.poll_interval_ms = 10;
    wait.settle_delay_ms = 20000;
    for (int i = 0; i < calls; i++) {
        struct fault f;
        if (fault_every > 0 && i % fault_every == fault_every - 1) {
            f = MENU[((size_t)w->index + (size_t)(i / fault_every)) % MENU_LEN];
            if (mock_fault(w->id, f.json) != 200) {
                snprintf(w->first_error, sizeof w->first_error, "could not inject %s", f.json);
                w->unexpected++;
                continue;
            }
            w->faults++;
        } else if (wait_every > 0 && i % wait_every == wait_every - 1) {
            f = (struct fault){WAIT, NULL, QOVERY_OK, 1, 1, 0};
        } else if (i % 2 == 0) {
            f = (struct fault){REDEPLOY, NULL, QOVERY_OK, 1, 0, 0};
        } else {
            f = (struct fault){STATUS, NULL, QOVERY_OK, 0, 1, 0};
        }
        double t0 = now_ms();
        qovery_result *r = f.call == REDEPLOY ? qovery_redeploy_database(client, w->id, NULL)
                           : f.call == STATUS ? qovery_database_status(client, w->id)
                                              : qovery_redeploy_and_wait(client, w->id, NULL, &wait,
                                                                         progress, NULL);
        w->latency_ms[i] = now_ms() - t0;
        qovery_code code = qovery_result_code(r);
        const char *id = qovery_result_id(r);
        const char *message = qovery_result_message(r), *detail = qovery_result_detail(r);
        int right = code == f.code;
        if (code == QOVERY_OK && f.accepted_unreadable)
            right = right && qovery_result_accepted_unreadable(r) && id == NULL;
        else if (code == QOVERY_OK)
            right = right && !qovery_result_accepted_unreadable(r) && id != NULL && strcmp(id, w->id) == 0;
        if (f.call == WAIT && code == QOVERY_OK) right = right && qovery_result_is_success(r);
        /* the token never shows, whatever happened */
        if ((message && strstr(message, token)) || (detail && strstr(detail, token))) right = 0;
        if (right) {
            if (code == QOVERY_OK)
                w->ok++;
            else
                w->expected_errors++;
        } else {
            w->unexpected++;
            if (w->first_error[0] == '\0')
                snprintf(w->first_error, sizeof w->first_error, "call %d (%s): expected %s, got %s: %s",
                         i, f.json ? f.json : "no fault", qovery_code_name(f.code), qovery_code_name(code),
                         message);
        }
        w->posts += f.posts;
        w->gets += f.gets;
        qovery_result_free(r);
    }
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "soak: HUNG: not finished within --max-seconds\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--threads") == 0) threads = v;
        else if (strcmp(argv[i], "--calls") == 0) calls = v;
        else if (strcmp(argv[i], "--fault-every") == 0) fault_every = v;
        else if (strcmp(argv[i], "--wait-every") == 0) wait_every = v;
        else if (strcmp(argv[i], "--max-seconds") == 0) max_seconds = v;
        else {
            fprintf(stderr, "soak: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || calls < 1) return 2;
    signal(SIGALRM, on_alarm);
    alarm((unsigned)max_seconds);
    token = getenv("QOVERY_MOCK_TOKEN") ? getenv("QOVERY_MOCK_TOKEN") : MOCK_TOKEN;

    qovery_client_options *o = qovery_client_options_new();
    qovery_client_options_set_token(o, token);
    qovery_client_options_set_base_url(o, mock_url());
    qovery_client_options_set_request_timeout_ms(o, 5000);
    qovery_client_options_set_deadline_ms(o, 30000);
    qovery_client_options_set_max_retries(o, 2);
    qovery_result *err = NULL;
    if (qovery_client_new(o, &client, &err) != QOVERY_OK) {
        fprintf(stderr, "soak: %s\n", qovery_result_message(err));
        return 2;
    }
    qovery_client_options_free(o);

    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    double *latency = calloc((size_t)threads * (size_t)calls, sizeof *latency);
    if (!workers || !tids || !latency) return 3;
    for (int t = 0; t < threads; t++) {
        workers[t].index = t;
        workers[t].latency_ms = latency + (size_t)t * (size_t)calls;
        new_db_id(workers[t].id);
        if (!mock_database(workers[t].id, "{\"tick_ms\": 0}")) {
            fprintf(stderr, "soak: cannot register a database on the mock\n");
            return 2;
        }
    }
    double t0 = now_ms();
    for (int t = 0; t < threads; t++) pthread_create(&tids[t], NULL, work, &workers[t]);
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    double wall = (now_ms() - t0) / 1000.0;

    long ok = 0, expected_errors = 0, unexpected = 0, faults = 0, posts = 0, gets = 0, count_mismatch = 0;
    for (int t = 0; t < threads; t++) {
        struct worker *w = &workers[t];
        ok += w->ok;
        expected_errors += w->expected_errors;
        unexpected += w->unexpected;
        faults += w->faults;
        long seen_posts = mock_count(w->id, "redeploy"), seen_gets = mock_count(w->id, "status");
        posts += seen_posts;
        gets += seen_gets;
        if (seen_posts != w->posts || seen_gets != w->gets) {
            count_mismatch++;
            fprintf(stderr, "thread %d: the mock saw %ld POSTs / %ld GETs, the calls imply %ld / %ld\n", t,
                    seen_posts, seen_gets, w->posts, w->gets);
        }
        if (w->first_error[0]) fprintf(stderr, "thread %d: %s\n", t, w->first_error);
    }
    qovery_client_free(client);
    long total = (long)threads * calls;
    qsort(latency, (size_t)total, sizeof *latency, compare);
    printf("soak C: %d threads x %d calls = %ld calls on one client, %ld with an injected fault (%.1f%%): "
           "%ld ok, %ld expected errors, %ld unexpected; mock counted %ld POSTs + %ld GETs, %s; "
           "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; %.1f s\n",
           threads, calls, total, faults, 100.0 * (double)faults / (double)total, ok, expected_errors,
           unexpected, posts, gets, count_mismatch ? "MISMATCH" : "as implied by every call",
           latency[total / 2], latency[total * 99 / 100], latency[total - 1], wall);
    free(latency);
    free(tids);
    free(workers);
    int bad = unexpected != 0 || count_mismatch != 0 || ok + expected_errors != total;
    return bad ? 1 : 0;
}
