// Package qovery is the Go binding of libqovery_redeploy, through cgo: redeploy a Qovery
// managed database, read its status and wait for the outcome, with progress and
// cancellation. It finds the C library with pkg-config (scripts/ffi-install.sh installs
// qovery_redeploy.pc); see README.md in this folder:
//
//	import qovery "github.com/qovery-redeploy/qovery-redeploy/bindings/go"
//
//	PKG_CONFIG_PATH=<prefix>/lib/pkgconfig CGO_LDFLAGS=-Wl,-rpath,<prefix>/lib go build
package qovery

/*
#cgo pkg-config: qovery_redeploy
#include <stdint.h>
#include <stdlib.h>
#include <qovery_redeploy.h>

qovery_result *qovery_go_redeploy_and_wait(const qovery_client *client, const char *id,
                                           const qovery_wait_options *wait, uintptr_t handle);
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"time"
	"unsafe"
)

// Version is the library's version at run time.
func Version() string { return C.GoString(C.qovery_version()) }

// Code is a qovery_code.
type Code uint32

// A few codes (the header has them all; the numbers never change).
const (
	OK               Code = C.QOVERY_OK
	InvalidArgument  Code = C.QOVERY_ERR_INVALID_ARGUMENT
	NullParameter    Code = C.QOVERY_ERR_NULL_PARAMETER
	Unauthorized     Code = C.QOVERY_ERR_UNAUTHORIZED
	NotFound         Code = C.QOVERY_ERR_NOT_FOUND
	DeploymentFailed Code = C.QOVERY_ERR_DEPLOYMENT_FAILED
	WaitTimeout      Code = C.QOVERY_ERR_WAIT_TIMEOUT
	Cancelled        Code = C.QOVERY_ERR_CANCELLED
)

func (c Code) String() string { return C.GoString(C.qovery_code_name(C.uint32_t(c))) }

// Status is a copy of the deployment status fields a caller usually needs.
type Status struct {
	ID, State, DeploymentRequestID, RawJSON string
	DeploymentRequestsCount                 int64
}

// Error is a failed call: its code, one-line message, HTTP status (0 if none) and, for
// failed / timed-out / cancelled waits, the last status.
type Error struct {
	Code       Code
	Message    string
	HTTPStatus int
	Status     *Status
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

func goString(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

func statusOf(r *C.qovery_result) *Status {
	if !bool(C.qovery_result_has_status(r)) {
		return nil
	}
	s := &Status{
		ID:                  goString(C.qovery_result_id(r)),
		State:               goString(C.qovery_result_state(r)),
		DeploymentRequestID: goString(C.qovery_result_deployment_request_id(r)),
		RawJSON:             goString(C.qovery_result_raw_json(r)),
	}
	var count C.int64_t
	if C.qovery_result_deployment_requests_count(r, &count) {
		s.DeploymentRequestsCount = int64(count)
	}
	return s
}

// take converts a result to Go values and frees it.
func take(r *C.qovery_result) (*Status, error) {
	defer C.qovery_result_free(r)
	code := Code(C.qovery_result_code(r))
	if code == OK {
		return statusOf(r), nil
	}
	return nil, &Error{
		Code:       code,
		Message:    goString(C.qovery_result_message(r)),
		HTTPStatus: int(C.qovery_result_http_status(r)),
		Status:     statusOf(r),
	}
}

// Client wraps a qovery_client, which may be shared by goroutines.
type Client struct{ c *C.qovery_client }

// Options configure NewClient; empty fields keep the library's defaults.
type Options struct {
	Token, BaseURL string
	UseEnv         bool // read QOVERY_API_TOKEN / QOVERY_API_URL for fields left empty
	MaxRetries     *uint32
}

// NewClient builds a client; the error carries the library's message.
func NewClient(o Options) (*Client, error) {
	opts := C.qovery_client_options_new()
	defer C.qovery_client_options_free(opts)
	setString := func(set func(*C.qovery_client_options, *C.char) C.qovery_code, v string) {
		if v != "" {
			cs := C.CString(v)
			defer C.free(unsafe.Pointer(cs))
			set(opts, cs)
		}
	}
	setString(func(o *C.qovery_client_options, s *C.char) C.qovery_code {
		return C.qovery_client_options_set_token(o, s)
	}, o.Token)
	setString(func(o *C.qovery_client_options, s *C.char) C.qovery_code {
		return C.qovery_client_options_set_base_url(o, s)
	}, o.BaseURL)
	if o.UseEnv {
		C.qovery_client_options_use_env(opts)
	}
	if o.MaxRetries != nil {
		C.qovery_client_options_set_max_retries(opts, C.uint32_t(*o.MaxRetries))
	}
	var client *C.qovery_client
	var failure *C.qovery_result
	if Code(C.qovery_client_new(opts, &client, &failure)) != OK {
		_, err := take(failure)
		return nil, err
	}
	return &Client{client}, nil
}

// Close frees the client; no call may be running on it.
func (c *Client) Close() {
	C.qovery_client_free(c.c)
	c.c = nil
}

// Redeploy asks for a redeploy and returns the accepted (202) status.
func (c *Client) Redeploy(databaseID string) (*Status, error) {
	id := C.CString(databaseID)
	defer C.free(unsafe.Pointer(id))
	return take(C.qovery_redeploy_database(c.c, id, nil))
}

// Status reads the current deployment status.
func (c *Client) Status(databaseID string) (*Status, error) {
	id := C.CString(databaseID)
	defer C.free(unsafe.Pointer(id))
	return take(C.qovery_database_status(c.c, id))
}

// Action is what a progress callback asks for: the same polarity as the C callback, whose
// non-zero return stops the wait.
type Action int

const (
	// Continue waiting (the C callback's 0).
	Continue Action = 0
	// Stop the wait: it ends with an *Error of code Cancelled (the C callback's non-zero).
	Stop Action = 1
)

// Wait configures RedeployAndWait; zero fields keep the library's defaults.
type Wait struct {
	Timeout, PollInterval time.Duration
	// Progress gets each state change and says whether to go on.
	Progress func(Status) Action
}

//export qoveryGoProgress
func qoveryGoProgress(status *C.qovery_result, handle C.uintptr_t) C.int {
	progress := cgo.Handle(handle).Value().(func(Status) Action)
	if s := statusOf(status); s != nil {
		return C.int(progress(*s))
	}
	return C.int(Continue)
}

// RedeployAndWait redeploys, then waits until that deployment ends.
func (c *Client) RedeployAndWait(databaseID string, w Wait) (*Status, error) {
	id := C.CString(databaseID)
	defer C.free(unsafe.Pointer(id))
	var opts C.qovery_wait_options
	C.qovery_wait_options_init(&opts)
	if w.Timeout > 0 {
		opts.timeout_ms = C.uint64_t(w.Timeout.Milliseconds())
	}
	if w.PollInterval > 0 {
		opts.poll_interval_ms = C.uint64_t(w.PollInterval.Milliseconds())
	}
	var handle C.uintptr_t
	if w.Progress != nil {
		h := cgo.NewHandle(w.Progress)
		defer h.Delete()
		handle = C.uintptr_t(h)
	}
	return take(C.qovery_go_redeploy_and_wait(c.c, id, &opts, handle))
}
