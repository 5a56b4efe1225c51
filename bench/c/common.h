/* Shared by the C contenders of the benchmark (bench/c/): argument parsing, a monotonic
 * clock, the JSON line every contender prints, and a pthread barrier-based thread runner.
 *
 *   PROGRAM MODE URL TOKEN DATABASE_ID N WARMUP THREADS [CA_FILE]
 *
 * CA_FILE: for an https:// URL, the PEM file of the CA to trust (qovery-mock --tls prints it);
 * libcurl gets it as CURLOPT_CAINFO, our library through qovery_client_options_set_ca_file().
 *
 * MODE seq      WARMUP untimed calls, then N timed calls on one client/handle: per-call ns.
 *      threads  THREADS threads, WARMUP untimed calls each, then N calls in all (N/THREADS
 *               each) after a common start: wall-clock ns for the N calls.
 *      oneshot  N times: create a client (handle), one call, free it: ns of each part.
 *      create   N times: create a client (handle) and free it, no call: ns of each creation
 *               (the first is the process's first, which loads the CA stores).
 * Output: one JSON object on stdout; problems go to stderr and the exit status is 1. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of the whole process (every thread), ns. */
static inline uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct args {
    const char *mode, *url, *token, *db;
    long n, warmup, threads;
    const char *ca_file; /* NULL: none */
};

static inline struct args parse_args(int argc, char **argv) {
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: %s seq|threads|oneshot|create URL TOKEN DATABASE_ID N WARMUP THREADS [CA_FILE]\n",
                argv[0]);
        exit(2);
    }
    struct args a = {argv[1], argv[2],       argv[3],       argv[4], atol(argv[5]),
                     atol(argv[6]), atol(argv[7]), argc == 9 ? argv[8] : NULL};
    if (a.n <= 0 || a.warmup < 0 || a.threads <= 0) {
        fprintf(stderr, "bad N, WARMUP or THREADS\n");
        exit(2);
    }
    return a;
}

/* Peak resident set of this process (VmHWM), KiB; -1 if unknown. Read here rather than from
 * the parent's wait4(): a child spawned by vfork+exec inherits its parent's high-water mark. */
static inline long vm_hwm_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kib = atol(line + 6);
    fclose(f);
    return kib;
}

static inline void print_ns_array(const char *name, const uint64_t *v, long n) {
    printf("\"%s\":[", name);
    for (long i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)v[i]);
    printf("]");
}

/* The one-shot mode's output: per-iteration create and total times, then the error count;
 * frees both arrays. */
static inline void report_oneshot(uint64_t *create, uint64_t *total, long n, long errors) {
    print_ns_array("create_ns", create, n);
    printf(",");
    print_ns_array("total_ns", total, n);
    printf(",\"errors\":%ld", errors);
    free(create);
    free(total);
}

/* The create mode's output: per-creation times; frees the array. */
static inline void report_create(uint64_t *create, long n, long errors) {
    print_ns_array("create_ns", create, n);
    printf(",\"errors\":%ld", errors);
    free(create);
}

static inline void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- threads mode: every worker does its warm-up, waits at the barrier, then its share ---- */

typedef int (*call_fn)(void *ctx);         /* one call; 0 = ok */
typedef void *(*thread_init_fn)(void *shared); /* per-thread context (e.g. a curl handle) */

struct worker {
    pthread_barrier_t *start, *ready;
    call_fn call;
    void *ctx;
    long warmup, calls, errors;
};

static void *worker_main(void *p) {
    struct worker *w = p;
    for (long i = 0; i < w->warmup; i++) w->errors += w->call(w->ctx) != 0;
    pthread_barrier_wait(w->ready);
    pthread_barrier_wait(w->start);
    for (long i = 0; i < w->calls; i++) w->errors += w->call(w->ctx) != 0;
    return NULL;
}

/* Runs `total` calls over `threads` threads (contexts ctx[i]); prints the JSON fields
 * "wall_ns", "cpu_ns", "calls", "errors". Returns the number of failed calls. */
static inline long run_threads(long threads, long total, long warmup, call_fn call, void **ctx) {
    pthread_barrier_t ready, start;
    pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    struct worker *w = xmalloc(sizeof *w * (size_t)threads);
    pthread_t *tid = xmalloc(sizeof *tid * (size_t)threads);
    long calls = 0;
    for (long i = 0; i < threads; i++) {
        long share = total / threads + (i < total % threads);
        w[i] = (struct worker){&start, &ready, call, ctx[i], warmup, share, 0};
        calls += share;
        if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&ready); /* every warm-up done: the pool holds `threads` connections */
    uint64_t t0 = now_ns(), c0 = cpu_ns();
    pthread_barrier_wait(&start);
    long errors = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        errors += w[i].errors;
    }
    uint64_t wall = now_ns() - t0, cpu = cpu_ns() - c0;
    printf("\"wall_ns\":%llu,\"cpu_ns\":%llu,\"calls\":%ld,\"errors\":%ld", (unsigned long long)wall,
           (unsigned long long)cpu, calls, errors);
    free(w);
    free(tid);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&start);
    return errors;
}

#endif
