module github.com/qovery-redeploy/qovery-redeploy/bindings/go

go 1.18
