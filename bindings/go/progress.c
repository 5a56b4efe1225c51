// The C side of the progress callback: the library calls a C function with a void *user
// data; Go passes a cgo.Handle (an integer) through it.
#include <stdint.h>
#include <qovery_redeploy.h>

#include "_cgo_export.h"

static int progress_trampoline(const qovery_result *status, void *user_data) {
    return qoveryGoProgress((qovery_result *)status, (uintptr_t)user_data);
}

qovery_result *qovery_go_redeploy_and_wait(const qovery_client *client, const char *id,
                                           const qovery_wait_options *wait, uintptr_t handle) {
    return qovery_redeploy_and_wait(client, id, NULL, wait, handle ? progress_trampoline : NULL,
                                    (void *)handle);
}
