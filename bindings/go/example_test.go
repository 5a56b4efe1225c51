package qovery_test

import (
	"errors"
	"fmt"
	"os"

	qovery "github.com/qovery-redeploy/qovery-redeploy/bindings/go"
)

// Redeploy a database and wait for the outcome, printing each state change; the token and
// URL come from QOVERY_API_TOKEN and QOVERY_API_URL. (Compiled by go test and go vet, not run:
// it needs a server.)
func ExampleClient_RedeployAndWait() {
	client, err := qovery.NewClient(qovery.Options{UseEnv: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer client.Close()
	status, err := client.RedeployAndWait("3c90c3cc-0d44-4b50-8888-8dd25736052a", qovery.Wait{
		Progress: func(s qovery.Status) qovery.Action {
			fmt.Println("state:", s.State)
			return qovery.Continue
		},
	})
	var failure *qovery.Error
	if errors.As(err, &failure) {
		fmt.Fprintln(os.Stderr, failure.Code, failure.Message)
		os.Exit(1)
	}
	fmt.Println("deployed:", status.State)
}
