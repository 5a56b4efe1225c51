/*
 * fork() with a client in use, through the C ABI: the parent makes a call (so the library's
 * runtime thread and a pooled connection exist) and forks; the child, bounded by alarm(10),
 * makes a call on the inherited client and one on a brand-new client, and exits 0 if both
 * succeeded; the parent's next calls still work. Over plain HTTP (QOVERY_MOCK_URL) and, when
 * QOVERY_TLS_MOCK_URL is set, over TLS. Run with ASan+UBSan by tests/CMakeLists.txt.
 */
#include "tls_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static int status_ok(const qovery_client *c, const char *id) {
    qovery_result *r = qovery_database_status(c, id);
    int ok = qovery_result_code(r) == QOVERY_OK && qovery_result_id(r) && strcmp(qovery_result_id(r), id) == 0;
    if (!ok) fprintf(stderr, "[pid %d] status: %s\n", (int)getpid(), qovery_result_message(r));
    qovery_result_free(r);
    return ok;
}

/* Waits for `pid`, at most 15 s (then SIGKILL); its exit code, or -1. */
static int wait_child(pid_t pid) {
    for (int i = 0; i < 1500; i++) {
        int st = 0;
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fprintf(stderr, "the child did not exit within 15 s\n");
    return -1;
}

typedef qovery_client *(*make_client)(void);

static qovery_client *plain_client(void) { return mock_client(MOCK_TOKEN, 0, 5000); }
static qovery_client *tls_mock_client(void) { return tls_client(need_env("QOVERY_TLS_MOCK_URL"), NULL, 0); }

static void fork_roundtrip(const char *what, make_client make, long (*count)(const char *, const char *),
                           int register_db) {
    char id[37];
    new_db_id(id);
    if (register_db) CHECK(mock_database(id, "{}"));
    qovery_client *c = make();
    CHECK(status_ok(c, id)); /* runtime + pooled connection */
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(10);
        int ok = status_ok(c, id);
        qovery_client *fresh = make();
        ok = ok && status_ok(fresh, id);
        qovery_result *r = qovery_redeploy_database(fresh, id, NULL);
        ok = ok && qovery_result_code(r) == QOVERY_OK;
        qovery_result_free(r);
        qovery_client_free(fresh);
        qovery_client_free(c);
        _exit(ok ? 0 : 1);
    }
    int code = wait_child(pid);
    if (code != 0) fprintf(stderr, "%s: the child exited with %d\n", what, code);
    CHECK(code == 0);
    CHECK(status_ok(c, id));
    CHECK(status_ok(c, id));
    /* a second fork of the same parent */
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        alarm(10);
        _exit(status_ok(c, id) ? 0 : 1);
    }
    CHECK(wait_child(pid) == 0);
    CHECK(status_ok(c, id));
    qovery_client_free(c);
    CHECK(count(id, "redeploy") == 1);
    CHECK(count(id, "status") == 7);
    printf("%s: fork ok\n", what);
}

int main(void) {
    fork_roundtrip("plain http", plain_client, mock_count, 1);
    if (getenv("QOVERY_TLS_MOCK_URL")) fork_roundtrip("https", tls_mock_client, tls_mock_count, 0);
    return t_summary("test_fork");
}
