/* Redeploy a Qovery database and wait for the outcome.
 *   cc redeploy.c $(pkg-config --cflags --libs qovery_redeploy) -o redeploy   (see ffi/README.md: rpath, static)
 *   QOVERY_API_TOKEN=... ./redeploy 3c90c3cc-0d44-4b50-8888-8dd25736052a       */
#include <stdio.h>
#include <qovery_redeploy.h>

/* The exit statuses of the qovery-redeploy command (cli/README.md), so scripts can tell a
 * refused token from a failed deployment from a redeploy whose outcome is unknown. */
static int exit_status(qovery_code code) {
    switch (code) {
    case QOVERY_OK: return 0;
    case QOVERY_ERR_INVALID_ARGUMENT:
    case QOVERY_ERR_NULL_PARAMETER: return 2;
    case QOVERY_ERR_UNAUTHORIZED:
    case QOVERY_ERR_FORBIDDEN: return 3;
    case QOVERY_ERR_NOT_FOUND: return 4;
    case QOVERY_ERR_DEPLOYMENT_FAILED: return 5;
    case QOVERY_ERR_TIMEOUT:
    case QOVERY_ERR_WAIT_TIMEOUT: return 6;
    case QOVERY_ERR_CONFLICT:
    case QOVERY_ERR_RATE_LIMITED: return 7;
    case QOVERY_ERR_OUTCOME_UNKNOWN: return 8; /* sent, no answer: check before retrying */
    case QOVERY_ERR_CANCELLED: return 130;
    default: return 1; /* server, network, TLS, unreadable answer, internal */
    }
}

static int on_progress(const qovery_result *status, void *user_data) {
    (void)user_data;
    printf("state: %s\n", qovery_result_state(status));
    return 0; /* non-zero cancels the wait */
}

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: %s DATABASE_ID\n", argv[0]), 2;
    qovery_client_options *options = qovery_client_options_new();
    qovery_client_options_use_env(options); /* QOVERY_API_TOKEN, QOVERY_API_URL */
    qovery_client *client = NULL;
    qovery_result *result = NULL;
    if (qovery_client_new(options, &client, &result) == QOVERY_OK)
        result = qovery_redeploy_and_wait(client, argv[1], NULL, NULL, on_progress, NULL);
    qovery_code code = qovery_result_code(result);
    if (code == QOVERY_OK) printf("deployed: %s\n", qovery_result_state(result));
    else fprintf(stderr, "error %s: %s\n", qovery_code_name(code), qovery_result_message(result));
    qovery_result_free(result);
    qovery_client_free(client);
    qovery_client_options_free(options);
    return exit_status(code);
}
