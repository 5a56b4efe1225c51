/* The C ABI contender: our library from C, through include/qovery_redeploy.h, linked to
 * libqovery_redeploy.so. One client (one keep-alive pool) for every call, shared by all
 * threads in threads mode; each call returns a qovery_result holding the parsed Status,
 * whose state is read and which is then freed. Modes: see common.h. */
#include "common.h"

#include <qovery_redeploy.h>

struct ctx {
    const qovery_client *client;
    const char *db;
};

static qovery_client *new_client(const struct args *a) {
    qovery_client_options *o = qovery_client_options_new();
    qovery_client *c = NULL;
    qovery_result *err = NULL;
    qovery_client_options_set_token(o, a->token);
    qovery_client_options_set_base_url(o, a->url);
    if (a->ca_file) qovery_client_options_set_ca_file(o, a->ca_file);
    if (qovery_client_new(o, &c, &err) != QOVERY_OK) {
        fprintf(stderr, "qovery_client_new: %s\n", qovery_result_message(err));
        exit(1);
    }
    qovery_client_options_free(o);
    return c;
}

/* One redeploy: 0 on success with a state read from the parsed Status. */
static int call(void *p) {
    struct ctx *x = p;
    qovery_result *r = qovery_redeploy_database(x->client, x->db, NULL);
    int bad = qovery_result_code(r) != QOVERY_OK || qovery_result_state(r) == NULL;
    if (bad) fprintf(stderr, "redeploy: %s\n", qovery_result_message(r));
    qovery_result_free(r);
    return bad;
}

int main(int argc, char **argv) {
    struct args a = parse_args(argc, argv);
    long errors = 0;
    printf("{\"contender\":\"c-abi\",\"mode\":\"%s\",\"version\":\"%s\",", a.mode, qovery_version());
    if (!strcmp(a.mode, "seq")) {
        qovery_client *c = new_client(&a);
        struct ctx x = {c, a.db};
        for (long i = 0; i < a.warmup; i++) errors += call(&x);
        uint64_t *lat = xmalloc(sizeof *lat * (size_t)a.n), c0 = cpu_ns(), start = now_ns();
        for (long i = 0; i < a.n; i++) {
            uint64_t t0 = now_ns();
            errors += call(&x);
            lat[i] = now_ns() - t0;
        }
        uint64_t end = now_ns(), cpu = cpu_ns() - c0;
        print_ns_array("lat_ns", lat, a.n);
        /* start/end: CLOCK_MONOTONIC, comparable between processes running at once */
        printf(",\"cpu_ns\":%llu,\"start_ns\":%llu,\"end_ns\":%llu,\"errors\":%ld", (unsigned long long)cpu,
               (unsigned long long)start, (unsigned long long)end, errors);
        qovery_client_free(c);
        free(lat);
    } else if (!strcmp(a.mode, "threads")) {
        qovery_client *c = new_client(&a);
        struct ctx x = {c, a.db};
        void **ctx = xmalloc(sizeof *ctx * (size_t)a.threads);
        for (long i = 0; i < a.threads; i++) ctx[i] = &x;
        printf("\"threads\":%ld,", a.threads);
        errors = run_threads(a.threads, a.n, a.warmup, call, ctx);
        qovery_client_free(c);
        free(ctx);
    } else if (!strcmp(a.mode, "oneshot")) {
        /* options + client + one call (new connection) + free, N times; the first is the
         * process's first client (cold). */
        uint64_t *create = xmalloc(sizeof *create * (size_t)a.n), *total = xmalloc(sizeof *total * (size_t)a.n);
        for (long i = 0; i < a.n; i++) {
            uint64_t t0 = now_ns();
            qovery_client *c = new_client(&a);
            uint64_t t1 = now_ns();
            struct ctx x = {c, a.db};
            errors += call(&x);
            qovery_client_free(c);
            uint64_t t2 = now_ns();
            create[i] = t1 - t0;
            total[i] = t2 - t0;
        }
        report_oneshot(create, total, a.n, errors);
    } else if (!strcmp(a.mode, "create")) {
        /* options + qovery_client_new + free, no call, N times; the first loads the system CA
         * store (once per process), later ones reuse it. */
        uint64_t *create = xmalloc(sizeof *create * (size_t)a.n);
        for (long i = 0; i < a.n; i++) {
            uint64_t t0 = now_ns();
            qovery_client *c = new_client(&a);
            create[i] = now_ns() - t0;
            qovery_client_free(c);
        }
        report_create(create, a.n, errors);
    } else {
        fprintf(stderr, "unknown mode %s\n", a.mode);
        return 2;
    }
    printf(",\"hwm_kib\":%ld}\n", vm_hwm_kib());
    return errors ? 1 : 0;
}
