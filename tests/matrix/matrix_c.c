/*
 * The fault matrix's C driver: executes calls through the C ABI for tests/matrix/run_c.py,
 * which sets up every case (qovery-mock, raw fault servers, closed ports) and checks the
 * results. Built with ASan+UBSan by scripts/test-reliability.sh.
 *
 * Protocol, one line per message, tab-separated, every string hex-encoded behind an "x"
 * ("x" alone is the empty string, "-" means NULL / not set):
 *
 *   in:  case <call> <base_url> <token> <database_id> <user_agent> <connect_ms> <request_ms>
 *             <deadline_ms> <max_retries> <wait_timeout_ms> <poll_ms> <settle_ms> <repeat>
 *             <pause_ms>
 *   out: result <code_name|accepted> <http_status> <elapsed_ms> <message> <detail> <state>
 *               <retry_after_ms|-> <progress_calls>          (one per call made)
 *        done
 *
 * <call> is redeploy, status or wait (qovery_redeploy_and_wait). If qovery_client_new fails,
 * its error is the one result. "quit" (or end of input) ends the program.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qovery_redeploy.h"

#define MAX_FIELDS 16

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "x<hex>" -> a malloc'd NUL-terminated string (NULL for "-"); exits on a malformed field. */
static char *unhex(const char *field) {
    if (strcmp(field, "-") == 0) return NULL;
    if (field[0] != 'x') {
        fprintf(stderr, "matrix_c: bad string field %.40s\n", field);
        exit(2);
    }
    size_t n = strlen(field + 1) / 2;
    char *out = malloc(n + 1);
    if (out == NULL) exit(3);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(field[1 + 2 * i]), lo = hexval(field[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "matrix_c: bad hex\n");
            exit(2);
        }
        out[i] = (char)(hi * 16 + lo);
    }
    out[n] = '\0';
    return out;
}

static void put_hex(const char *s) {
    if (s == NULL) {
        fputs("\t-", stdout);
        return;
    }
    fputs("\tx", stdout);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) printf("%02x", *p);
}

static uint64_t num(const char *field) { return strtoull(field, NULL, 10); }

struct progress {
    int calls;
};

static int on_progress(const qovery_result *status, void *user_data) {
    struct progress *p = user_data;
    p->calls++;
    /* read a field, as a real consumer would */
    return qovery_result_state(status) == NULL ? 1 : 0;
}

static void report(const qovery_result *r, double elapsed, int progress_calls) {
    uint64_t retry_after = 0;
    /* A redeploy answered 2xx with a body that could not be read: QOVERY_OK, accepted. */
    const char *kind = qovery_result_accepted_unreadable(r) ? "accepted"
                                                             : qovery_code_name(qovery_result_code(r));
    printf("result\t%s\t%u\t%.3f", kind, (unsigned)qovery_result_http_status(r), elapsed);
    put_hex(qovery_result_message(r));
    put_hex(qovery_result_detail(r));
    put_hex(qovery_result_state(r));
    if (qovery_result_retry_after_ms(r, &retry_after))
        printf("\t%llu", (unsigned long long)retry_after);
    else
        fputs("\t-", stdout);
    printf("\t%d\n", progress_calls);
}

static void run_case(char **f) {
    const char *call = f[1];
    char *base_url = unhex(f[2]), *token = unhex(f[3]), *id = unhex(f[4]), *agent = unhex(f[5]);
    qovery_client_options *o = qovery_client_options_new();
    if (base_url) qovery_client_options_set_base_url(o, base_url);
    if (token) qovery_client_options_set_token(o, token);
    if (agent) qovery_client_options_set_user_agent(o, agent);
    qovery_client_options_set_connect_timeout_ms(o, num(f[6]));
    qovery_client_options_set_request_timeout_ms(o, num(f[7]));
    qovery_client_options_set_deadline_ms(o, num(f[8]));
    qovery_client_options_set_max_retries(o, (uint32_t)num(f[9]));
    qovery_wait_options wait;
    qovery_wait_options_init(&wait);
    wait.timeout_ms = num(f[10]);
    wait.poll_interval_ms = num(f[11]);
    wait.settle_delay_ms = num(f[12]);
    unsigned repeat = (unsigned)num(f[13]), pause = (unsigned)num(f[14]);

    double t0 = now_ms();
    qovery_client *client = NULL;
    qovery_result *err = NULL;
    if (qovery_client_new(o, &client, &err) != QOVERY_OK) {
        report(err, now_ms() - t0, 0);
        qovery_result_free(err);
    } else {
        for (unsigned i = 0; i < repeat; i++) {
            if (i) sleep_ms(pause);
            struct progress p = {0};
            t0 = now_ms();
            qovery_result *r;
            if (strcmp(call, "redeploy") == 0)
                r = qovery_redeploy_database(client, id, NULL);
            else if (strcmp(call, "status") == 0)
                r = qovery_database_status(client, id);
            else
                r = qovery_redeploy_and_wait(client, id, NULL, &wait, on_progress, &p);
            report(r, now_ms() - t0, p.calls);
            qovery_result_free(r);
        }
        qovery_client_free(client);
    }
    qovery_client_options_free(o);
    free(base_url);
    free(token);
    free(id);
    free(agent);
    puts("done");
    fflush(stdout);
}

int main(void) {
    size_t cap = 0;
    char *line = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (strcmp(line, "quit") == 0) break;
        char *fields[MAX_FIELDS];
        int n = 0;
        for (char *p = line; n < MAX_FIELDS;) {
            fields[n++] = p;
            char *tab = strchr(p, '\t');
            if (tab == NULL) break;
            *tab = '\0';
            p = tab + 1;
        }
        if (n == 15 && strcmp(fields[0], "case") == 0) {
            run_case(fields);
        } else {
            fprintf(stderr, "matrix_c: unexpected line with %d fields\n", n);
            free(line);
            return 2;
        }
    }
    free(line);
    return 0;
}
