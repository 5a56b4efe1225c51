//! Cancel in the middle of a request, measured: a call blocked on the mock's `slow_headers` /
//! `slow_body` fault (plain HTTP and TLS) is cancelled from another thread after ~200 ms and
//! must return `Cancelled` within 100 ms of the cancel; the client's deadline bounds a call
//! against a silent server (plain and TLS, one that never answers the handshake) with an
//! overshoot under 250 ms. The figures are printed (`cargo test --test cancel -- --nocapture`).

mod common;
mod tlsutil;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Mock, RawServer};
use qovery_redeploy::{CancelToken, Client, ErrorKind, RedeployOptions, WaitOptions};
use tlsutil::{TlsMock, TOKEN};

const CANCEL_AFTER: Duration = Duration::from_millis(200);
const CANCEL_BOUND: Duration = Duration::from_millis(100);
const OVERSHOOT_BOUND: Duration = Duration::from_millis(250);

fn db() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `call(cancel)` while another thread cancels after CANCEL_AFTER; returns (error kind,
/// cancel-to-return latency).
fn cancel_midway(
    call: impl FnOnce(&CancelToken) -> Result<(), qovery_redeploy::Error>,
) -> (ErrorKind, Duration) {
    let token = CancelToken::new();
    let cancelled_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let canceller = {
        let (token, at) = (token.clone(), cancelled_at.clone());
        std::thread::spawn(move || {
            std::thread::sleep(CANCEL_AFTER);
            *at.lock().unwrap() = Some(Instant::now());
            token.cancel();
        })
    };
    let start = Instant::now();
    let result = call(&token);
    let returned = Instant::now();
    canceller.join().unwrap();
    let at = cancelled_at.lock().unwrap().expect("the canceller ran");
    let err = result.expect_err("the call must not finish before its fault ends");
    assert!(
        returned >= at,
        "returned {:?} after start, before the cancel: {err:?}",
        returned - start
    );
    (err.kind(), returned - at)
}

fn client(url: &str) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(url)
        .no_proxy()
        .max_retries(2)
        .request_timeout(Duration::from_secs(20))
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[test]
fn cancel_during_slow_headers_and_slow_body_is_prompt() {
    let mock = Mock::start(&["--any-database"]);
    let c = client(&mock.url);
    for (kind, on) in [
        ("slow_headers", "status"),
        ("slow_body", "status"),
        ("slow_headers", "redeploy"),
        ("slow_body", "redeploy"),
    ] {
        let id = db();
        mock.configure(&id, "{}");
        mock.fault(
            &id,
            &format!(r#"{{"on":"{on}","kind":"{kind}","delay_ms":5000}}"#),
        );
        let (got, latency) = cancel_midway(|cancel| {
            if on == "status" {
                c.database_status_with(&id, None, Some(cancel)).map(|_| ())
            } else {
                c.redeploy_database(
                    &id,
                    RedeployOptions {
                        cancel: Some(cancel),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }
        });
        eprintln!(
            "cancel latency ({kind} on {on}, http): {:.1} ms",
            ms(latency)
        );
        assert_eq!(got, ErrorKind::Cancelled, "{kind} on {on}");
        assert!(latency < CANCEL_BOUND, "{kind} on {on}: {latency:?}");
        // The call was in the middle of a request: the mock got exactly one.
        let (r, s) = mock.counts(&id);
        assert_eq!(r + s, 1, "{kind} on {on}: ({r}, {s})");
    }
    // The client still works afterwards (the aborted connection is not reused).
    let id = db();
    c.database_status(&id).expect("a call after the cancels");
}

#[test]
fn cancel_during_slow_headers_over_tls_is_prompt() {
    let mock = TlsMock::start(&["--any-database"]);
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .ca_file(&mock.ca_file)
        .no_proxy()
        .build()
        .unwrap();
    for kind in ["slow_headers", "slow_body"] {
        let id = db();
        mock.configure(&id, "{}");
        mock.fault(
            &id,
            &format!(r#"{{"on":"status","kind":"{kind}","delay_ms":5000}}"#),
        );
        let (got, latency) =
            cancel_midway(|cancel| c.database_status_with(&id, None, Some(cancel)).map(|_| ()));
        eprintln!("cancel latency ({kind}, https): {:.1} ms", ms(latency));
        assert_eq!(got, ErrorKind::Cancelled);
        assert!(latency < CANCEL_BOUND, "{kind}: {latency:?}");
    }
    c.database_status(&db()).expect("a call after the cancels");
}

#[test]
fn cancel_during_a_wait_poll_is_prompt() {
    let mock = Mock::start(&["--any-database", "--tick-ms", "10000"]);
    let c = client(&mock.url);
    let id = db();
    mock.configure(&id, "{}");
    mock.fault(
        &id,
        r#"{"on":"status","kind":"slow_headers","delay_ms":5000,"always":true}"#,
    );
    let (got, latency) = cancel_midway(|cancel| {
        c.redeploy_and_wait(
            &id,
            RedeployOptions::default(),
            WaitOptions {
                timeout: Duration::from_secs(30),
                poll_interval: Duration::from_millis(20),
                cancel: Some(cancel),
                ..Default::default()
            },
        )
        .map(|_| ())
    });
    eprintln!(
        "cancel latency (redeploy_and_wait, slow poll): {:.1} ms",
        ms(latency)
    );
    assert_eq!(got, ErrorKind::Cancelled);
    assert!(latency < CANCEL_BOUND, "{latency:?}");
}

/// A server that accepts, reads whatever comes and never writes a byte.
fn silent_server() -> RawServer {
    RawServer::start(|_, mut stream, _| {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut buf = [0u8; 4096];
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
}

#[test]
fn deadline_bounds_a_call_against_a_silent_server() {
    let server = silent_server();
    let plain = server.url();
    let tls = plain.replace("http://", "https://");
    for (what, url) in [("http", plain.as_str()), ("https handshake", tls.as_str())] {
        for deadline in [Duration::from_millis(300), Duration::from_millis(800)] {
            let c = Client::builder()
                .token(TOKEN)
                .base_url(url)
                .no_proxy()
                .max_retries(2)
                .request_timeout(Duration::from_secs(20))
                .deadline(deadline)
                .build()
                .unwrap();
            for call in ["status", "redeploy"] {
                let start = Instant::now();
                let e = if call == "status" {
                    c.database_status(&db()).unwrap_err()
                } else {
                    c.redeploy_database(&db(), RedeployOptions::default())
                        .unwrap_err()
                };
                let took = start.elapsed();
                let overshoot = took.saturating_sub(deadline);
                eprintln!(
                    "deadline overshoot ({what}, {call}, deadline {} ms): {:.1} ms ({e})",
                    deadline.as_millis(),
                    ms(overshoot)
                );
                assert!(
                    matches!(e.kind(), ErrorKind::Timeout | ErrorKind::OutcomeUnknown),
                    "{what} {call}: {e:?}"
                );
                assert!(
                    took + Duration::from_millis(5) >= deadline,
                    "{what} {call}: returned after {took:?}, before the deadline"
                );
                assert!(
                    overshoot < OVERSHOOT_BOUND,
                    "{what} {call}: {took:?} for {deadline:?}"
                );
            }
        }
    }
}
