//! The client against a raw TCP server that misbehaves on purpose, byte by byte. Each case
//! checks the error kind, how many requests reached the server (a redeploy must never be
//! sent twice by the client itself), that it fails within its bound, and that the token
//! shows nowhere.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use qovery_redeploy::{CancelToken, Client, Error, ErrorKind, RedeployOptions};

const SECRET: &str = "tok-3f9a8b7c6d5e4f30";

fn client(url: &str) -> Client {
    capture_logs();
    Client::builder()
        .token(SECRET)
        .base_url(url)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(800))
        .deadline(Duration::from_secs(6))
        .max_retries(2)
        .build()
        .unwrap()
}

fn redeploy(url: &str) -> Result<qovery_redeploy::DeploymentStatus, Error> {
    client(url).redeploy_database(DB, RedeployOptions::default())
}

fn status(url: &str) -> Result<qovery_redeploy::DeploymentStatus, Error> {
    client(url).database_status(DB)
}

/// The value of header `name` (any case, as HTTP field names are) in a request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The error is of `kind` and shows no secret in Display or Debug.
fn expect(result: Result<qovery_redeploy::DeploymentStatus, Error>, kind: ErrorKind) -> Error {
    let err = result.expect_err("expected an error");
    assert_eq!(err.kind(), kind, "{err}");
    assert_no_secret(&err.to_string(), SECRET);
    assert_no_secret(&format!("{err:?}"), SECRET);
    for line in logged() {
        assert_no_secret(&line, SECRET);
    }
    err
}

/// A redeploy answered 2xx was accepted, whatever its body. The call succeeds with
/// a status marked `accepted_unreadable` carrying what was received; no secret is logged.
fn expect_accepted(
    result: Result<qovery_redeploy::DeploymentStatus, Error>,
) -> qovery_redeploy::DeploymentStatus {
    let status = result.expect("a 2xx redeploy is accepted");
    assert!(status.accepted_unreadable(), "{:?}", status.state);
    assert_eq!(status.state.as_str(), "");
    assert!(!status.is_success() && !status.is_failure() && !status.is_terminal());
    let lines = logged();
    for line in &lines {
        assert_no_secret(line, SECRET);
    }
    assert!(
        lines.iter().any(|l| l.contains("redeploy accepted")),
        "a warning says the redeploy was accepted: {lines:?}"
    );
    status
}

/// A server that reads the request and then says nothing for `silence`.
fn silent_server(silence: Duration) -> RawServer {
    RawServer::start(move |_, mut s, seen| {
        read_request(&mut s, seen);
        std::thread::sleep(silence);
    })
}

/// A server answering every request with the same canned response.
fn canned(status_line: &'static str, headers: &'static str, body: String) -> RawServer {
    RawServer::start(move |_, stream, seen| {
        serve_forever(stream, seen, status_line, headers, &body)
    })
}

fn ok_body() -> String {
    status_body("QUEUED", "11111111-1111-4111-8111-111111111111")
}

#[test]
fn success_sends_the_expected_request() {
    let server = canned("202 Accepted", "", ok_body());
    let c = client(&server.url());
    let s = c
        .redeploy_database(
            DB,
            RedeployOptions {
                apply_immediately: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(s.state.as_str(), "QUEUED");
    let head = server.seen.heads.lock().unwrap()[0].clone();
    assert!(
        head.starts_with(&format!(
            "POST /database/{DB}/redeploy?applyImmediately=true HTTP/1.1\r\n"
        )),
        "{head}"
    );
    let token = format!("Token {SECRET}");
    assert_eq!(
        header(&head, "authorization"),
        Some(token.as_str()),
        "{head}"
    );
    let agent = format!("qovery-redeploy/{}", qovery_redeploy::VERSION);
    assert_eq!(header(&head, "user-agent"), Some(agent.as_str()));
    assert_eq!(header(&head, "accept"), Some("application/json"));
    assert_eq!(header(&head, "content-length"), Some("0"));
    let host = server.addr.to_string();
    assert_eq!(header(&head, "host"), Some(host.as_str()));
    // Keep-alive: a second call reuses the connection.
    c.database_status(DB).unwrap();
    assert_eq!(server.seen.connections(), 1);
    assert_eq!(server.seen.requests(), 2);
    let head = server.seen.heads.lock().unwrap()[1].clone();
    assert!(
        head.starts_with(&format!("GET /database/{DB}/status HTTP/1.1\r\n")),
        "{head}"
    );
}

#[test]
fn jwt_shaped_tokens_go_as_bearer_and_base_path_prefix_is_kept() {
    let server = canned("202 Accepted", "", ok_body());
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    let c = Client::builder()
        .token(jwt)
        .base_url(format!("{}/api/v1/", server.url()))
        .build()
        .unwrap();
    c.redeploy_database(DB, RedeployOptions::default()).unwrap();
    let head = server.seen.heads.lock().unwrap()[0].clone();
    assert!(
        head.starts_with(&format!("POST /api/v1/database/{DB}/redeploy HTTP/1.1")),
        "{head}"
    );
    let bearer = format!("Bearer {jwt}");
    assert_eq!(header(&head, "authorization"), Some(bearer.as_str()));
}

#[test]
fn connection_refused_is_retried_then_network() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let db = new_db();
    let started = Instant::now();
    let err = expect(
        client(&format!("http://127.0.0.1:{port}"))
            .redeploy_database(&db, RedeployOptions::default()),
        ErrorKind::Network,
    );
    assert!(err.to_string().contains("cannot connect"), "{err}");
    let attempts = logged()
        .iter()
        .filter(|l| l.contains(&db) && l.contains("-> failed"))
        .count();
    assert_eq!(attempts, 3, "1 attempt + 2 retries");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn silent_server_post_is_outcome_unknown_and_not_retried() {
    let server = silent_server(Duration::from_secs(3));
    let started = Instant::now();
    let err = expect(redeploy(&server.url()), ErrorKind::OutcomeUnknown);
    assert!(err.to_string().contains("may have been processed"), "{err}");
    assert_eq!(server.seen.requests(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn silent_server_get_times_out_after_retries() {
    let server = silent_server(Duration::from_secs(4));
    let started = Instant::now();
    expect(status(&server.url()), ErrorKind::Timeout);
    assert_eq!(server.seen.requests(), 3);
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[test]
fn reset_after_request_post_is_outcome_unknown_get_is_retried() {
    let server = RawServer::start(|_, mut s, seen| {
        read_request(&mut s, seen);
        reset(s);
    });
    expect(redeploy(&server.url()), ErrorKind::OutcomeUnknown);
    assert_eq!(server.seen.requests(), 1);
    expect(status(&server.url()), ErrorKind::Network);
    assert_eq!(server.seen.requests(), 1 + 3);
}

#[test]
fn reset_before_reading_is_never_resent_for_post() {
    let server = RawServer::start(|_, s, _| reset(s));
    let err = redeploy(&server.url()).unwrap_err();
    // The client cannot know whether the request was read: it must not resend it.
    assert!(
        matches!(err.kind(), ErrorKind::OutcomeUnknown),
        "{:?}: {err}",
        err.kind()
    );
    assert_eq!(server.seen.connections(), 1);
}

#[test]
fn slow_headers_within_and_beyond_the_timeout() {
    let slow = |delay_ms: u64| {
        RawServer::start(move |_, mut s, seen| {
            if read_request(&mut s, seen).is_some() {
                std::thread::sleep(Duration::from_millis(delay_ms));
                respond(&mut s, "202 Accepted", "", &ok_body());
            }
        })
    };
    let fast_enough = slow(200);
    assert!(redeploy(&fast_enough.url()).is_ok());
    let too_slow = slow(2000);
    let started = Instant::now();
    expect(redeploy(&too_slow.url()), ErrorKind::OutcomeUnknown);
    assert!(started.elapsed() < Duration::from_millis(1800));
    assert_eq!(too_slow.seen.requests(), 1);
}

#[test]
fn slow_body_of_an_accepted_redeploy_is_accepted() {
    let server = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let body = ok_body();
            let head = format!(
                "HTTP/1.1 202 Accepted\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            for b in body.as_bytes() {
                if s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    // Accepted (202) but unreadable in time: accepted, so nobody takes it for "not processed".
    let status = expect_accepted(redeploy(&server.url()));
    assert_eq!(status.raw_json(), "", "the transport keeps no partial body");
    assert_eq!(server.seen.requests(), 1);
}

#[test]
fn short_body_and_chunked_abort_of_a_redeploy_are_accepted() {
    let short = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let _ = s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 500\r\n\r\n{\"id\":");
        }
    });
    expect_accepted(redeploy(&short.url()));
    assert_eq!(short.seen.requests(), 1);

    let chunked = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let _ = s.write_all(
                b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"id\":\"3c90",
            );
        }
    });
    expect_accepted(redeploy(&chunked.url()));
    assert_eq!(chunked.seen.requests(), 1);
    // The same cut-short answer to a status GET is still a decode error.
    let err = expect(status(&chunked.url()), ErrorKind::Decode);
    assert_eq!(err.http_status(), Some(202));
}

#[test]
fn chunked_answers_with_trailers_and_interim_100_are_read() {
    let server = RawServer::start(|_, mut s, seen| {
        while read_request(&mut s, seen).is_some() {
            let body = ok_body();
            let (a, b) = body.split_at(body.len() / 2);
            let msg = format!(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n",
                a.len(),
                b.len()
            );
            let _ = s.write_all(msg.as_bytes());
        }
    });
    let c = client(&server.url());
    assert_eq!(c.database_status(DB).unwrap().state.as_str(), "QUEUED");
    assert_eq!(c.database_status(DB).unwrap().state.as_str(), "QUEUED");
    assert_eq!(
        server.seen.connections(),
        1,
        "chunked answers keep the connection"
    );
}

#[test]
fn idle_connection_closed_by_the_server_is_replaced_without_resending() {
    let server = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            respond(&mut s, "202 Accepted", "", &ok_body());
            std::thread::sleep(Duration::from_millis(50));
            // Idle timeout on the server side: FIN while the client holds it in its pool.
        }
    });
    let c = client(&server.url());
    c.redeploy_database(DB, RedeployOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    c.redeploy_database(DB, RedeployOptions::default()).unwrap();
    assert_eq!(server.seen.requests(), 2, "each redeploy sent exactly once");
    assert_eq!(server.seen.connections(), 2);
}

#[test]
fn oversized_bodies_are_refused_with_and_without_length() {
    let declared = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let _ = s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2097152\r\n\r\n{");
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let started = Instant::now();
    expect_accepted(redeploy(&declared.url()));
    let err = expect(status(&declared.url()), ErrorKind::Decode);
    assert!(err.to_string().contains("limit"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "refused from the header alone"
    );

    let undeclared = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let _ = s.write_all(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..40 {
                if s.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
    });
    expect_accepted(redeploy(&undeclared.url()));
    assert_eq!(undeclared.seen.requests(), 1);
}

#[test]
fn html_502_page_is_a_server_error_not_retried_for_post() {
    let page =
        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".to_owned();
    let server = canned("502 Bad Gateway", "Content-Type: text/html\r\n", page);
    let err = expect(redeploy(&server.url()), ErrorKind::Server);
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(err.detail(), None);
    assert_eq!(server.seen.requests(), 1);
    expect(status(&server.url()), ErrorKind::Server);
    assert_eq!(server.seen.requests(), 1 + 3, "GET is retried");
}

#[test]
fn statuses_map_to_kinds_with_the_servers_detail() {
    let cases: Vec<(&str, String, ErrorKind, Option<&str>)> = vec![
        ("401 Unauthorized", r#"{"status":401,"detail":"Invalid token"}"#.into(), ErrorKind::Unauthorized, Some("Invalid token")),
        (
            "403 Forbidden",
            r#"{"status":403,"error":"Forbidden","message":"Access denied to database","timestamp":"2024-01-01T00:00:00Z","path":"/database/x/redeploy"}"#.into(),
            ErrorKind::Forbidden,
            Some("Access denied to database"),
        ),
        ("404 Not Found", r#"{"status":404,"detail":"Database not found"}"#.into(), ErrorKind::NotFound, Some("Database not found")),
        ("409 Conflict", r#"{"status":409,"detail":"DeploymentConflict"}"#.into(), ErrorKind::Conflict, Some("DeploymentConflict")),
        (
            "400 Bad Request",
            r#"{"status":400,"detail":"ActionAlreadyInProgress: a deployment is in progress"}"#.into(),
            ErrorKind::Conflict,
            Some("ActionAlreadyInProgress: a deployment is in progress"),
        ),
        ("400 Bad Request", r#"{"status":400,"detail":"InvalidAction"}"#.into(), ErrorKind::Http, Some("InvalidAction")),
        ("418 I'm a teapot", "not json".into(), ErrorKind::Http, None),
        ("500 Internal Server Error", r#"{"status":500,"detail":"boom"}"#.into(), ErrorKind::Server, Some("boom")),
        ("504 Gateway Timeout", String::new(), ErrorKind::Server, None),
    ];
    for (line, body, kind, detail) in cases {
        let server = RawServer::start(move |_, s, seen| serve_forever(s, seen, line, "", &body));
        let err = expect(redeploy(&server.url()), kind);
        assert_eq!(err.detail(), detail, "{line}");
        assert_eq!(err.http_status(), line[..3].parse().ok(), "{line}");
        assert_eq!(server.seen.requests(), 1, "{line}: POST never retried");
    }
}

#[test]
fn a_server_echoing_the_token_has_it_redacted() {
    let body = format!(r#"{{"status":401,"detail":"token {SECRET} is invalid\r\nX: y"}}"#);
    let server =
        RawServer::start(move |_, s, seen| serve_forever(s, seen, "401 Unauthorized", "", &body));
    let err = expect(redeploy(&server.url()), ErrorKind::Unauthorized);
    assert!(err.detail().unwrap().contains("[REDACTED]"), "{err}");
}

/// 429/503 then success: how many POSTs reached the server, and how long it waited.
fn rate_limited_then_ok(
    first: &'static str,
    retry_after: String,
) -> (
    RawServer,
    Result<qovery_redeploy::DeploymentStatus, Error>,
    Duration,
) {
    let server = RawServer::start(move |_, mut s, seen| {
        while read_request(&mut s, seen).is_some() {
            if seen.requests() == 1 {
                let headers = if retry_after.is_empty() {
                    String::new()
                } else {
                    format!("Retry-After: {retry_after}\r\n")
                };
                respond(
                    &mut s,
                    first,
                    &headers,
                    r#"{"status":429,"detail":"Too many requests"}"#,
                );
            } else {
                respond(&mut s, "202 Accepted", "", &ok_body());
            }
        }
    });
    let started = Instant::now();
    let result = redeploy(&server.url());
    (server, result, started.elapsed())
}

#[test]
fn rate_limit_retry_after_seconds_date_and_garbage() {
    let (server, result, took) = rate_limited_then_ok("429 Too Many Requests", "1".into());
    assert!(result.is_ok());
    assert_eq!(server.seen.requests(), 2);
    assert!(took >= Duration::from_millis(950), "waited {took:?}");

    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let (server, result, took) = rate_limited_then_ok("429 Too Many Requests", date);
    assert!(result.is_ok());
    assert_eq!(server.seen.requests(), 2);
    assert!(took >= Duration::from_millis(500), "waited {took:?}");

    let (server, result, _) = rate_limited_then_ok("429 Too Many Requests", "soon-ish".into());
    assert!(result.is_ok(), "garbage Retry-After falls back to backoff");
    assert_eq!(server.seen.requests(), 2);

    let (server, result, _) = rate_limited_then_ok("503 Service Unavailable", String::new());
    assert!(result.is_ok(), "503 is retried for POST");
    assert_eq!(server.seen.requests(), 2);
}

#[test]
fn rate_limit_beyond_the_deadline_returns_at_once_with_the_wait() {
    let server = canned(
        "429 Too Many Requests",
        "Retry-After: 3600\r\n",
        r#"{"status":429,"detail":"slow down"}"#.into(),
    );
    let started = Instant::now();
    let err = expect(redeploy(&server.url()), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.seen.requests(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(err.to_string().contains("retry after 3600 s"), "{err}");
}

#[test]
fn redirects_are_never_followed() {
    for location in [
        "http://127.0.0.2:1/steal",
        "http://127.0.0.1:1/database",
        "/database/x/redeploy",
    ] {
        let headers: &'static str = Box::leak(format!("Location: {location}\r\n").into_boxed_str());
        let server = canned("302 Found", headers, String::new());
        let err = expect(redeploy(&server.url()), ErrorKind::Http);
        assert!(err.to_string().contains("redirect"), "{err}");
        assert_eq!(err.http_status(), Some(302));
        assert_eq!(server.seen.requests(), 1);
    }
}

#[test]
fn garbage_answers_and_deep_json() {
    let server = RawServer::start(|_, mut s, seen| {
        if read_request(&mut s, seen).is_some() {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
        }
    });
    expect(redeploy(&server.url()), ErrorKind::OutcomeUnknown);
    assert_eq!(server.seen.requests(), 1);

    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let server = canned("202 Accepted", "", deep.clone());
    assert_eq!(expect_accepted(redeploy(&server.url())).raw_json(), deep);
    expect(status(&server.url()), ErrorKind::Decode);

    let server = canned("202 Accepted", "", String::new());
    assert_eq!(expect_accepted(redeploy(&server.url())).raw_json(), "");
    expect(status(&server.url()), ErrorKind::Decode);

    let server = canned(
        "202 Accepted",
        "Content-Type: application/json\r\n",
        "\u{fffd}\u{0}".into(),
    );
    assert_eq!(
        expect_accepted(redeploy(&server.url())).raw_json(),
        "\u{fffd}\u{0}"
    );
    expect(status(&server.url()), ErrorKind::Decode);
}

#[test]
fn bad_inputs_never_reach_the_network() {
    let server = canned("202 Accepted", "", ok_body());
    let c = client(&server.url());
    let long = "9".repeat(4096);
    for id in [
        "",
        "../x",
        "a%2Fb",
        "3c90c3cc-0d44-4b50-8888-8dd25736052a/../x",
        "3c90c3cc-0d44-4b50-8888-8dd2573605\0a",
        long.as_str(),
        " 3c90c3cc-0d44-4b50-8888-8dd25736052a",
    ] {
        let err = expect(
            c.redeploy_database(id, RedeployOptions::default()),
            ErrorKind::InvalidInput,
        );
        assert!(err.to_string().contains("database id"), "{err}");
        expect(c.database_status(id), ErrorKind::InvalidInput);
    }
    assert_eq!(server.seen.connections(), 0);
}

#[test]
fn cancel_interrupts_a_slow_call_promptly() {
    let server = silent_server(Duration::from_secs(3));
    let c = Client::builder()
        .token(SECRET)
        .base_url(server.url())
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            token.cancel();
        })
    };
    let started = Instant::now();
    let err = c.database_status_with(DB, None, Some(&token)).unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn client_deadline_bounds_a_call_with_retries() {
    let server = silent_server(Duration::from_secs(3));
    let c = Client::builder()
        .token(SECRET)
        .base_url(server.url())
        .request_timeout(Duration::from_secs(10))
        .deadline(Duration::from_millis(400))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.database_status(DB).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[test]
fn many_threads_share_one_client() {
    let server = canned("200 OK", "", ok_body());
    let c = client(&server.url());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || (0..50).filter(|_| c.database_status(DB).is_ok()).count())
        })
        .collect();
    let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ok, 400);
    assert_eq!(server.seen.requests(), 400);
    // Reused, not one per call. Not exactly one per thread: hyper puts a connection back in
    // the pool when its task next runs, and a thread's next call can come first (9-10 seen).
    assert!(
        server.seen.connections() <= 24,
        "connections reused: {}",
        server.seen.connections()
    );
}

#[test]
fn tls_to_a_server_that_does_not_speak_it_is_a_tls_error_not_retried() {
    let server = RawServer::start(|_, mut s, _| {
        let mut hello = [0u8; 512];
        let _ = std::io::Read::read(&mut s, &mut hello);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let c = Client::builder()
        .token(SECRET)
        .base_url(format!("https://{}", server.addr))
        .build()
        .unwrap();
    let err = c
        .redeploy_database(DB, RedeployOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert_eq!(server.seen.connections(), 1, "TLS failures are not retried");
    assert_no_secret(&err.to_string(), SECRET);
}

#[test]
fn closing_idle_connections_keeps_the_client_usable() {
    let server = canned("200 OK", "", ok_body());
    let c = client(&server.url());
    c.database_status(DB).unwrap();
    c.database_status(DB).unwrap();
    assert_eq!(server.seen.connections(), 1);
    c.close_idle_connections();
    c.database_status(DB).unwrap();
    assert_eq!(server.seen.connections(), 2, "a new connection after close");
}

/// Regressions found by fuzzing (fuzz/README.md): server data reaching an error's text.
#[test]
fn server_data_in_error_texts_never_carries_the_token() {
    // The token as a wrong-typed field value: serde used to quote it in its message. Now the
    // field reads as unknown and its log line names the field, not the value.
    let body = format!(r#"{{"state":"QUEUED","deployment_requests_count":"{SECRET}"}}"#);
    let server = canned("202 Accepted", "", body);
    let s = redeploy(&server.url()).unwrap();
    assert_eq!(
        (s.state.as_str(), s.deployment_requests_count),
        ("QUEUED", None)
    );
    for line in logged() {
        assert_no_secret(&line, SECRET);
    }
    // Without a state, a status GET is a decode error that does not quote the body either.
    let body = format!(r#"{{"deployment_requests_count":"{SECRET}"}}"#);
    let server = canned("200 OK", "", body);
    expect(status(&server.url()), ErrorKind::Decode);
    // The token as a non-JSON body of an accepted redeploy: the warning does not quote it.
    let server = canned("202 Accepted", "", format!("<html>{SECRET}</html>"));
    expect_accepted(redeploy(&server.url()));

    // The token as a Transfer-Encoding value (the client used to lowercase and quote it).
    let headers: &'static str =
        Box::leak(format!("Transfer-Encoding: {SECRET}\r\n").into_boxed_str());
    let server = canned("200 OK", headers, String::new());
    // hyper reads such a body until close (RFC 9112 6.3); this server keeps the connection
    // open, so the read times out.
    let err = expect(status(&server.url()), ErrorKind::Timeout);
    assert_no_secret(&err.to_string().to_lowercase(), &SECRET.to_lowercase());

    // A token with characters `{:?}` escapes still matches in its escaped form.
    let odd = r#"tok"en\x9"#;
    let body = format!(
        r#"{{"deployment_requests_count":{}}}"#,
        serde_json::to_string(odd).unwrap()
    );
    let server = canned("200 OK", "", body);
    let c = Client::builder()
        .token(odd)
        .base_url(server.url())
        .build()
        .unwrap();
    let err = c.database_status(DB).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(odd) && !shown.contains(r#"tok\"en\\x9"#),
        "{shown}"
    );
}
