/* The libcurl contender: what a C program would write without our library. One easy handle
 * reused for every call (keep-alive), POST /database/<id>/redeploy with the same headers our
 * client sends, the body collected in a reused buffer, the status code checked (202) and the
 * JSON parsed by tinyjson.h (validated whole, the Status fields copied out). Modes: see
 * common.h. In threads mode each thread has its own easy handle (libcurl handles are not
 * shareable between threads). */
#include "common.h"
#include "tinyjson.h"

#include <curl/curl.h>

struct handle {
    CURL *curl;
    struct curl_slist *headers;
    char *body;
    size_t len, cap;
    char url[512];
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *user) {
    struct handle *h = user;
    size_t n = size * nmemb;
    if (h->len + n + 1 > h->cap) {
        while (h->len + n + 1 > h->cap) h->cap = h->cap ? h->cap * 2 : 4096;
        h->body = realloc(h->body, h->cap);
        if (!h->body) return 0;
    }
    memcpy(h->body + h->len, data, n);
    h->len += n;
    return n;
}



static void handle_init(struct handle *h, const struct args *a) {
    memset(h, 0, sizeof *h);
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: Token %s", a->token);
    snprintf(h->url, sizeof h->url, "%s/database/%s/redeploy", a->url, a->db);
    h->headers = curl_slist_append(h->headers, auth);
    h->headers = curl_slist_append(h->headers, "Accept: application/json");
    h->headers = curl_slist_append(h->headers, "Content-Type:"); /* no form content type */
    h->curl = curl_easy_init();
    if (!h->curl) {
        fprintf(stderr, "curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
    curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "bench-libcurl/1");
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
    if (a->ca_file) curl_easy_setopt(h->curl, CURLOPT_CAINFO, a->ca_file);
}

static void handle_free(struct handle *h) {
    curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->body);
}

/* One redeploy: 0 on a 202 with a valid Status body. */
static int call(void *ctx) {
    struct handle *h = ctx;
    h->len = 0;
    CURLcode rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
        return 1;
    }
    long code = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    struct status_fields st;
    if (code != 202 || parse_status(h->body, h->len, &st) != 0) {
        fprintf(stderr, "unexpected answer: HTTP %ld, %zu bytes\n", code, h->len);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct args a = parse_args(argc, argv);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    long errors = 0;
    printf("{\"contender\":\"libcurl\",\"mode\":\"%s\",\"version\":\"%s\",", a.mode, curl_version_info(CURLVERSION_NOW)->version);
    if (!strcmp(a.mode, "seq")) {
        struct handle h;
        handle_init(&h, &a);
        for (long i = 0; i < a.warmup; i++) errors += call(&h);
        uint64_t *lat = xmalloc(sizeof *lat * (size_t)a.n), c0 = cpu_ns(), start = now_ns();
        for (long i = 0; i < a.n; i++) {
            uint64_t t0 = now_ns();
            errors += call(&h);
            lat[i] = now_ns() - t0;
        }
        uint64_t end = now_ns(), cpu = cpu_ns() - c0;
        print_ns_array("lat_ns", lat, a.n);
        /* start/end: CLOCK_MONOTONIC, comparable between processes running at once */
        printf(",\"cpu_ns\":%llu,\"start_ns\":%llu,\"end_ns\":%llu,\"errors\":%ld", (unsigned long long)cpu,
               (unsigned long long)start, (unsigned long long)end, errors);
        handle_free(&h);
        free(lat);
    } else if (!strcmp(a.mode, "threads")) {
        struct handle *hs = xmalloc(sizeof *hs * (size_t)a.threads);
        void **ctx = xmalloc(sizeof *ctx * (size_t)a.threads);
        for (long i = 0; i < a.threads; i++) handle_init(&hs[i], &a), ctx[i] = &hs[i];
        printf("\"threads\":%ld,", a.threads);
        errors = run_threads(a.threads, a.n, a.warmup, call, ctx);
        for (long i = 0; i < a.threads; i++) handle_free(&hs[i]);
        free(hs);
        free(ctx);
    } else if (!strcmp(a.mode, "oneshot")) {
        /* create a handle + one call (new connection) + cleanup, N times */
        uint64_t *create = xmalloc(sizeof *create * (size_t)a.n), *total = xmalloc(sizeof *total * (size_t)a.n);
        for (long i = 0; i < a.n; i++) {
            struct handle h;
            uint64_t t0 = now_ns();
            handle_init(&h, &a);
            uint64_t t1 = now_ns();
            errors += call(&h);
            handle_free(&h);
            uint64_t t2 = now_ns();
            create[i] = t1 - t0;
            total[i] = t2 - t0;
        }
        report_oneshot(create, total, a.n, errors);
    } else if (!strcmp(a.mode, "create")) {
        uint64_t *create = xmalloc(sizeof *create * (size_t)a.n);
        for (long i = 0; i < a.n; i++) {
            struct handle h;
            uint64_t t0 = now_ns();
            handle_init(&h, &a);
            create[i] = now_ns() - t0;
            handle_free(&h);
        }
        report_create(create, a.n, errors);
    } else {
        fprintf(stderr, "unknown mode %s\n", a.mode);
        return 2;
    }
    printf(",\"hwm_kib\":%ld}\n", vm_hwm_kib());
    curl_global_cleanup();
    return errors ? 1 : 0;
}
