module github.com/qovery-redeploy/qovery-redeploy/tests/go

go 1.18
