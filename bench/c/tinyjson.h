/* The JSON step of the libcurl contender: a small validating parser (RFC 8259 grammar:
 * objects, arrays, strings with escapes, numbers, true/false/null; nesting bounded at 32)
 * that walks the whole body and copies out the Status fields a caller needs: "id",
 * "state", "deployment_request_id" (strings) and "deployment_requests_count" (integer).
 * It allocates nothing and builds no tree, so it is cheaper than the typed parse our
 * library does (serde into a struct with UUIDs, an RFC 3339 date and enums): a floor, not
 * a handicap, for libcurl. Returns 0 when the body is valid JSON with a string "state". */
#ifndef BENCH_TINYJSON_H
#define BENCH_TINYJSON_H

#include <stddef.h>
#include <string.h>

struct status_fields {
    char id[64], state[64], request_id[64];
    long long count;
};

struct jp {
    const char *p, *end;
    int depth;
};

static void jp_ws(struct jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int jp_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at j->p (the opening quote); copies up to cap-1 unescaped ASCII bytes to out
 * when out is not NULL (escapes other than \" \\ \/ are validated and skipped). */
static int jp_string(struct jp *j, char *out, size_t cap) {
    size_t n = 0;
    if (j->p >= j->end || *j->p != '"') return -1;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') {
            if (out) out[n < cap ? n : cap - 1] = 0;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c == '\\') {
            if (j->p >= j->end) return -1;
            c = (unsigned char)*j->p++;
            if (c == 'u') {
                if (j->end - j->p < 4) return -1;
                for (int i = 0; i < 4; i++)
                    if (!jp_hex(j->p[i])) return -1;
                j->p += 4;
                continue;
            }
            if (!strchr("\"\\/bfnrt", c)) return -1;
        }
        if (out && n + 1 < cap) out[n++] = (char)c;
    }
    return -1;
}

static int jp_number(struct jp *j, long long *out) {
    const char *s = j->p;
    long long v = 0;
    int neg = 0, integral = 1;
    if (j->p < j->end && *j->p == '-') neg = 1, j->p++;
    if (j->p >= j->end) return -1;
    if (*j->p == '0') j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') v = v * 10 + (*j->p++ - '0');
    else return -1;
    if (j->p < j->end && *j->p == '.') {
        integral = 0, j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        integral = 0, j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (out && integral) *out = neg ? -v : v;
    return j->p > s ? 0 : -1;
}

static int jp_literal(struct jp *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return -1;
    j->p += n;
    return 0;
}

static int jp_value(struct jp *j, struct status_fields *top);

static int jp_object(struct jp *j, struct status_fields *top) {
    char key[64];
    if (++j->depth > 32) return -1;
    j->p++; /* { */
    jp_ws(j);
    if (j->p < j->end && *j->p == '}') return j->p++, j->depth--, 0;
    for (;;) {
        jp_ws(j);
        if (jp_string(j, key, sizeof key)) return -1;
        jp_ws(j);
        if (j->p >= j->end || *j->p++ != ':') return -1;
        jp_ws(j);
        if (top && j->p < j->end && *j->p == '"') {
            char *dst = !strcmp(key, "id") ? top->id
                      : !strcmp(key, "state") ? top->state
                      : !strcmp(key, "deployment_request_id") ? top->request_id : NULL;
            if (jp_string(j, dst, 64)) return -1;
        } else if (top && !strcmp(key, "deployment_requests_count")) {
            if (jp_number(j, &top->count)) return -1;
        } else if (jp_value(j, NULL)) {
            return -1;
        }
        jp_ws(j);
        if (j->p >= j->end) return -1;
        if (*j->p == ',') { j->p++; continue; }
        if (*j->p == '}') return j->p++, j->depth--, 0;
        return -1;
    }
}

static int jp_array(struct jp *j) {
    if (++j->depth > 32) return -1;
    j->p++; /* [ */
    jp_ws(j);
    if (j->p < j->end && *j->p == ']') return j->p++, j->depth--, 0;
    for (;;) {
        jp_ws(j);
        if (jp_value(j, NULL)) return -1;
        jp_ws(j);
        if (j->p >= j->end) return -1;
        if (*j->p == ',') { j->p++; continue; }
        if (*j->p == ']') return j->p++, j->depth--, 0;
        return -1;
    }
}

static int jp_value(struct jp *j, struct status_fields *top) {
    if (j->p >= j->end) return -1;
    switch (*j->p) {
    case '{': return jp_object(j, top);
    case '[': return jp_array(j);
    case '"': return jp_string(j, NULL, 0);
    case 't': return jp_literal(j, "true");
    case 'f': return jp_literal(j, "false");
    case 'n': return jp_literal(j, "null");
    default: return jp_number(j, NULL);
    }
}

static int parse_status(const char *body, size_t len, struct status_fields *out) {
    struct jp j = {body, body + len, 0};
    memset(out, 0, sizeof *out);
    out->count = -1;
    jp_ws(&j);
    if (j.p >= j.end || *j.p != '{' || jp_object(&j, out)) return -1;
    jp_ws(&j);
    return j.p == j.end && out->state[0] ? 0 : -1;
}

#endif
