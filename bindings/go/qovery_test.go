package qovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

const token = "qovery-mock-token"

func mockURL(t *testing.T) string {
	url := os.Getenv("QOVERY_MOCK_URL")
	if url == "" {
		t.Fatal("QOVERY_MOCK_URL must point at a running qovery-mock")
	}
	return url
}

var dbCounter struct {
	sync.Mutex
	n int
}

// newDatabase registers a database with the mock's control API.
func newDatabase(t *testing.T, config string) string {
	dbCounter.Lock()
	dbCounter.n++
	id := fmt.Sprintf("%08x-0000-4000-9000-%012x", os.Getpid(), dbCounter.n)
	dbCounter.Unlock()
	req, _ := http.NewRequest(http.MethodPut, mockURL(t)+"/_mock/databases/"+id, bytes.NewBufferString(config))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("PUT database: %s", resp.Status)
	}
	return id
}

func newClient(t *testing.T) *Client {
	c, err := NewClient(Options{Token: token, BaseURL: mockURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestVersion(t *testing.T) {
	if want := os.Getenv("QOVERY_EXPECTED_VERSION"); Version() != want {
		t.Fatalf("Version() = %q, want %q", Version(), want)
	}
	if NotFound.String() != "not_found" || Code(999).String() != "unknown" {
		t.Fatalf("code names: %q %q", NotFound, Code(999))
	}
}

func TestRedeployAndWait(t *testing.T) {
	c := newClient(t)
	id := newDatabase(t, `{"tick_ms": 50}`)
	var states []string
	final, err := c.RedeployAndWait(id, Wait{
		Timeout:      30 * time.Second,
		PollInterval: 20 * time.Millisecond,
		Progress:     func(s Status) Action { states = append(states, s.State); return Continue },
	})
	if err != nil {
		t.Fatal(err)
	}
	if final.State != "DEPLOYED" || final.ID != id {
		t.Fatalf("final status %+v", final)
	}
	if len(states) < 2 || states[0] != "QUEUED" || states[len(states)-1] != "DEPLOYED" {
		t.Fatalf("progress %v", states)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(final.RawJSON), &raw); err != nil || raw["state"] != "DEPLOYED" {
		t.Fatalf("raw JSON %q: %v", final.RawJSON, err)
	}
}

func TestProgressCancels(t *testing.T) {
	c := newClient(t)
	id := newDatabase(t, `{"tick_ms": 100}`)
	_, err := c.RedeployAndWait(id, Wait{
		PollInterval: 20 * time.Millisecond,
		Progress: func(s Status) Action {
			if s.State == "DEPLOYING" {
				return Stop
			}
			return Continue
		},
	})
	var e *Error
	if !errors.As(err, &e) || e.Code != Cancelled || e.Status == nil || e.Status.State != "DEPLOYING" {
		t.Fatalf("want cancelled at DEPLOYING, got %v", err)
	}
}

func TestDeploymentFailed(t *testing.T) {
	c := newClient(t)
	id := newDatabase(t, `{"tick_ms": 20, "outcome": "DEPLOYMENT_ERROR"}`)
	_, err := c.RedeployAndWait(id, Wait{PollInterval: 20 * time.Millisecond})
	var e *Error
	if !errors.As(err, &e) || e.Code != DeploymentFailed || e.Status.State != "DEPLOYMENT_ERROR" {
		t.Fatalf("want deployment_failed, got %v", err)
	}
}

func TestErrors(t *testing.T) {
	c := newClient(t)
	var e *Error
	if _, err := c.Status("00000000-0000-4000-8000-00000000dead"); !errors.As(err, &e) || e.Code != NotFound || e.HTTPStatus != 404 {
		t.Fatalf("want not_found, got %v", err)
	}
	if _, err := c.Redeploy("not-a-uuid"); !errors.As(err, &e) || e.Code != InvalidArgument {
		t.Fatalf("want invalid_argument, got %v", err)
	}
	bad, err := NewClient(Options{Token: "wrong-token", BaseURL: mockURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	id := newDatabase(t, `{}`)
	if _, err := bad.Redeploy(id); !errors.As(err, &e) || e.Code != Unauthorized || bytes.Contains([]byte(e.Message), []byte("wrong-token")) {
		t.Fatalf("want unauthorized without the token, got %v", err)
	}
	if _, err := NewClient(Options{BaseURL: mockURL(t)}); !errors.As(err, &e) || e.Code != InvalidArgument {
		t.Fatalf("want invalid_argument for a missing token, got %v", err)
	}
}

// Goroutines share one client (the C handle is thread-safe).
func TestGoroutinesShareClient(t *testing.T) {
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4*20)
	for g := 0; g < 4; g++ {
		id := newDatabase(t, `{"tick_ms": 0}`)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				accepted, err := c.Redeploy(id)
				if err != nil {
					errs <- err
					continue
				}
				now, err := c.Status(id)
				if err != nil {
					errs <- err
				} else if now.DeploymentRequestID != accepted.DeploymentRequestID {
					errs <- fmt.Errorf("status shows %s, redeploy made %s", now.DeploymentRequestID, accepted.DeploymentRequestID)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
