/*
 * 8 threads share one qovery_client and make 200 calls each (100 redeploy + status pairs)
 * against qovery-mock (QOVERY_MOCK_URL). Each thread owns a database whose deployments
 * finish at once (tick_ms 0), so after each redeploy the status must show exactly the
 * deployment request that redeploy created: an answer delivered to the wrong thread, or a
 * connection shared by two calls at once, breaks that. At the end the mock must have
 * counted exactly 100 redeploys and 100 status polls per database.
 */
#include "testutil.h"

#include <pthread.h>
#include <time.h>

#define THREADS 8
#define CALLS 200

struct worker {
    const qovery_client *client;
    char id[37];
    int ok_calls;
    int failed_calls;
    char first_error[256];
};

static void record_failure(struct worker *w, const qovery_result *r, const char *what) {
    w->failed_calls++;
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof w->first_error, "%s: %s %s", what,
                 qovery_code_name(qovery_result_code(r)), qovery_result_message(r));
}

static void *work(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < CALLS / 2; i++) {
        qovery_result *r = qovery_redeploy_database(w->client, w->id, NULL);
        const char *rid = qovery_result_deployment_request_id(r);
        if (qovery_result_code(r) == QOVERY_OK && rid != NULL && qovery_result_id(r) != NULL &&
            strcmp(qovery_result_id(r), w->id) == 0 && strcmp(qovery_result_state(r), "QUEUED") == 0)
            w->ok_calls++;
        else
            record_failure(w, r, "redeploy");

        qovery_result *s = qovery_database_status(w->client, w->id);
        const char *sid = qovery_result_deployment_request_id(s);
        if (qovery_result_code(s) == QOVERY_OK && rid != NULL && sid != NULL && strcmp(rid, sid) == 0 &&
            strcmp(qovery_result_id(s), w->id) == 0 && qovery_result_is_success(s))
            w->ok_calls++;
        else
            record_failure(w, s, "status");
        qovery_result_free(s);
        qovery_result_free(r);
    }
    return NULL;
}

int main(void) {
    qovery_client *client = mock_client(MOCK_TOKEN, 0, 0);
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < THREADS; i++) {
        workers[i].client = client;
        new_db_id(workers[i].id);
        CHECK(mock_database(workers[i].id, "{\"tick_ms\": 0}"));
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;

    int ok = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        ok += workers[i].ok_calls;
        failed += workers[i].failed_calls;
        CHECK(workers[i].ok_calls == CALLS);
        if (workers[i].first_error[0]) fprintf(stderr, "thread %d: %s\n", i, workers[i].first_error);
        CHECK(mock_count(workers[i].id, "redeploy") == CALLS / 2);
        CHECK(mock_count(workers[i].id, "status") == CALLS / 2);
    }
    qovery_client_free(client);
    printf("threads: %d threads x %d calls on one client: %d correct, %d wrong, %.0f ms (%.2f ms/call)\n",
           THREADS, CALLS, ok, failed, ms, ms / (THREADS * CALLS));
    return t_summary("threads");
}
