//! Real HTTPS end to end against `qovery-mock --tls`: redeploy and wait, keep-alive reuse
//! over one TLS connection, the three TLS-fault listeners (error kind `tls`, never retried,
//! nothing reaches the application) and bad CA bundles (`invalid_input` at build).
//!
//! The mock's control API reports request counts and logs but no connection counts, so the
//! connections (= TLS handshakes) are counted by a TCP forwarder placed in front of it.
//! Every client here sets `no_proxy()`, so a proxy in the environment running the tests
//! cannot change what they measure (the proxy tests are in proxy.rs).

mod common;
mod tlsutil;

use std::time::Duration;

use qovery_redeploy::{Client, ErrorKind, RedeployOptions, State, WaitOptions};
use tlsutil::{temp_dir, Forwarder, TlsMock, TOKEN};

fn db() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn client(mock: &TlsMock, url: &str, retries: u32) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(url)
        .ca_file(&mock.ca_file)
        .no_proxy()
        .max_retries(retries)
        .request_timeout(Duration::from_secs(10))
        .deadline(Duration::from_secs(20))
        .build()
        .expect("client")
}

#[test]
fn https_redeploy_and_wait_reaches_deployed() {
    let mock = TlsMock::start(&["--any-database", "--tick-ms", "50"]);
    let id = db();
    mock.configure(&id, "{}");
    let c = client(&mock, &mock.url, 0);
    let mut states = Vec::new();
    let mut on_progress = |p: &qovery_redeploy::Progress<'_>| {
        let s = p.status;
        states.push(s.state.as_str().to_owned());
        std::ops::ControlFlow::Continue(())
    };
    let final_status = c
        .redeploy_and_wait(
            &id,
            RedeployOptions {
                apply_immediately: Some(true),
                ..Default::default()
            },
            WaitOptions {
                timeout: Duration::from_secs(20),
                poll_interval: Duration::from_millis(50),
                settle_delay: Duration::from_secs(5),
                on_progress: Some(&mut on_progress),
                ..Default::default()
            },
        )
        .expect("redeploy and wait over HTTPS");
    assert_eq!(final_status.state, State::Deployed);
    assert!(final_status.is_success());
    let (redeploys, polls) = mock.counts(&id);
    assert_eq!(redeploys, 1);
    assert!(polls >= 1, "{polls} status polls");
    let req = mock.requests(&id);
    assert_eq!(req["last_apply_immediately"], serde_json::json!(true));
    assert!(states.iter().any(|s| s == "DEPLOYED"), "{states:?}");
    eprintln!("https states seen: {states:?}, {polls} polls");
}

#[test]
fn https_keep_alive_reuses_one_tls_connection() {
    let mock = TlsMock::start(&["--any-database", "--tick-ms", "50"]);
    let fwd = Forwarder::start(mock.addr());
    let id = db();
    mock.configure(&id, "{}");
    let c = client(&mock, &fwd.url(), 0);
    c.redeploy_database(&id, RedeployOptions::default())
        .expect("first call");
    c.database_status(&id).expect("second call");
    c.database_status(&id).expect("third call");
    assert_eq!(mock.counts(&id), (1, 2));
    assert_eq!(
        fwd.connections(),
        1,
        "three calls on one client must share one TLS connection"
    );
    // A clone shares the pool too.
    c.clone().database_status(&id).expect("clone");
    assert_eq!(fwd.connections(), 1);
    // After close_idle_connections the next call opens a new one.
    c.close_idle_connections();
    c.database_status(&id)
        .expect("after close_idle_connections");
    assert_eq!(fwd.connections(), 2);
}

#[test]
fn https_without_the_ca_is_a_tls_error() {
    let mock = TlsMock::start(&["--any-database"]);
    let id = db();
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .no_proxy()
        .max_retries(2)
        .build()
        .unwrap();
    let e = c.database_status(&id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e:?}");
    assert_eq!(mock.counts(&id), (0, 0));
}

#[test]
fn tls_faults_are_tls_errors_never_retried_and_never_sent() {
    let mock = TlsMock::start(&["--any-database"]);
    for name in ["unknown_ca", "wrong_host", "expired"] {
        let id = db();
        mock.configure(&id, "{}");
        let fwd = Forwarder::start(mock.fault_listener(name));
        let c = client(&mock, &fwd.url(), 2);

        let e = c
            .redeploy_database(&id, RedeployOptions::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls, "{name} redeploy: {e:?}");
        assert!(!e.is_transient(), "{name}: {e:?}");
        assert_eq!(fwd.connections(), 1, "{name}: redeploy handshake attempts");

        // A status GET is retried on transient errors: a certificate error is not one.
        let e = c.database_status(&id).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls, "{name} status: {e:?}");
        assert_eq!(fwd.connections(), 2, "{name}: status handshake attempts");

        assert_eq!(mock.counts(&id), (0, 0), "{name}: requests reached the app");
        eprintln!("{name}: {e}");
    }
}

#[test]
fn bad_ca_bundles_are_invalid_input_at_build() {
    let dir = temp_dir("bundles");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n\x00\x01\x02\n").unwrap();
    let bad_pem = dir.join("bad.pem");
    std::fs::write(
        &bad_pem,
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.join("missing.pem");
    for path in [&missing, &empty, &garbage, &bad_pem, &dir] {
        let e = Client::builder()
            .token(TOKEN)
            .base_url("https://127.0.0.1:9")
            .ca_file(path)
            .no_proxy()
            .build()
            .err()
            .unwrap_or_else(|| panic!("{} accepted as a CA bundle", path.display()));
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidInput,
            "{}: {e:?}",
            path.display()
        );
        assert!(
            e.message().contains(&*path.display().to_string()),
            "the message names the file: {e}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
