//! `qovery_mock::MockServer`, the in-process server: its control methods, and
//! that dropping it really stops it (prompt even mid-fault, port closed,
//! temporary TLS directory gone), since every test binary now runs mocks in
//! process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use qovery_mock::MockServer;
use serde_json::{json, Value};

const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

/// One request (Connection: close) on plain HTTP: (status, body).
fn get(mock: &MockServer, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(mock.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Token {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |x| x.1).to_owned();
    (code, body)
}

#[test]
fn control_methods_are_the_control_api() {
    let mock = MockServer::builder()
        .token("lib-token")
        .tick_ms(0)
        .quiet(true)
        .start()
        .unwrap();
    assert!(
        mock.url().starts_with("http://127.0.0.1:"),
        "{}",
        mock.url()
    );
    assert_eq!(mock.ca_file(), None);
    assert_eq!(mock.tls_info(), None);
    let status = format!("/database/{DB}/status");
    assert_eq!(get(&mock, &status, Some("lib-token")).0, 404);

    mock.put_database(&DB.to_uppercase(), json!({"outcome": "CANCELED"}))
        .unwrap();
    mock.add_faults(DB, json!({"on": "status", "kind": "http", "code": 503}))
        .unwrap();
    assert_eq!(get(&mock, &status, Some("lib-token")).0, 503);
    assert_eq!(get(&mock, &status, Some("lib-token")).0, 200);
    let log = mock.requests(DB);
    assert_eq!(log["status"], 2, "{log}");
    assert_eq!(log["log"][0]["fault"], "http", "{log}");
    assert!(!log.to_string().contains("lib-token"));
    let (code, body) = get(&mock, &format!("/_mock/databases/{DB}/requests"), None);
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), log);

    mock.clear_requests(DB);
    assert_eq!(mock.requests(DB)["status"], 0);
    // the control API's checks, as errors
    assert!(mock.put_database("nope", json!({})).is_err());
    let e = mock.put_database(DB, json!({"outcome": ""})).unwrap_err();
    assert!(e.to_string().contains("outcome"), "{e}");
    assert!(mock.add_faults(DB, Value::Null).is_err());
    assert!(mock.add_faults(DB, json!({"kind": "nope"})).is_err());
    let other = "0b7f3e59-1f51-4a87-9a7c-6d1a3e1c2b44";
    let e = mock
        .add_faults(other, json!({"kind": "close"}))
        .unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");

    assert!(mock.delete_database(DB));
    assert!(!mock.delete_database(DB));
    mock.put_database(DB, Value::Null).unwrap();
    mock.reset();
    assert_eq!(get(&mock, &status, Some("lib-token")).0, 404);
}

#[test]
fn start_errors_never_quote_a_token() {
    let e = MockServer::builder()
        .token("s3cret value")
        .start()
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("s3cret"), "{e}");
    let b = MockServer::builder().token("s3cret-token");
    assert!(!format!("{b:?}").contains("s3cret"));
    assert!(MockServer::builder().database("nope").start().is_err());
    assert!(MockServer::builder().tick_ms(3_600_001).start().is_err());
    assert!(MockServer::builder().tls_dir("/tmp/x").start().is_err());
    let e = MockServer::builder()
        .host("0.0.0.0".parse().unwrap())
        .start()
        .unwrap_err();
    assert!(e.to_string().contains("non-loopback"), "{e}");
}

#[test]
fn from_args_means_what_the_binary_means() {
    let mock = qovery_mock::Builder::from_args(["--tick-ms", "0", "--quiet", "--database", DB])
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(
        get(
            &mock,
            &format!("/database/{DB}/status"),
            Some("qovery-mock-token")
        )
        .0,
        200
    );
    for bad in [&["--help"][..], &["--exit-on-stdin-eof"], &["--tokne=x"]] {
        assert!(qovery_mock::Builder::from_args(bad.iter().copied()).is_err());
    }
}

#[test]
fn drop_is_prompt_mid_fault_and_closes_the_port() {
    let mock = MockServer::builder()
        .database(DB)
        .quiet(true)
        .start()
        .unwrap();
    mock.add_faults(DB, json!({"kind": "slow_headers", "delay_ms": 600_000}))
        .unwrap();
    let addr = mock.addr();
    // a client stuck in a 10-minute fault, one idle on keep-alive, one that sent half a head
    let mut stuck = TcpStream::connect(addr).unwrap();
    stuck
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stuck,
        "GET /database/{DB}/status HTTP/1.1\r\nHost: x\r\nAuthorization: Token qovery-mock-token\r\n\r\n"
    )
    .unwrap();
    let _idle = TcpStream::connect(addr).unwrap();
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    // the faulted request has reached the app before the drop
    let seen = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        mock.requests(DB)["status"] == 1
    });
    assert!(seen, "the request never arrived");
    let t = Instant::now();
    drop(mock);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        t.elapsed()
    );
    let mut buf = [0u8; 64];
    assert!(matches!(stuck.read(&mut buf), Ok(0) | Err(_)));
    assert!(TcpStream::connect(addr).is_err(), "{addr} still accepts");
}

#[test]
fn tls_temp_dir_lives_as_long_as_the_server() {
    let mock = MockServer::builder().tls(true).quiet(true).start().unwrap();
    assert!(
        mock.url().starts_with("https://127.0.0.1:"),
        "{}",
        mock.url()
    );
    let ca = mock.ca_file().unwrap().to_path_buf();
    assert!(ca.is_absolute() && ca.is_file(), "{ca:?}");
    let info = mock.tls_info().unwrap();
    assert_eq!(info["ca_file"], ca.to_str().unwrap());
    let fault_addrs: Vec<String> = ["unknown_ca", "wrong_host", "expired"]
        .iter()
        .map(|n| {
            info[n]
                .as_str()
                .unwrap()
                .trim_start_matches("https://")
                .to_owned()
        })
        .collect();
    let dir = ca.parent().unwrap().to_path_buf();
    drop(mock);
    assert!(!dir.exists(), "{dir:?} left behind");
    for a in fault_addrs {
        assert!(TcpStream::connect(&a).is_err(), "{a} still accepts");
    }

    // a directory given by the caller is the caller's
    let given = std::env::temp_dir().join(format!("qovery-mock-lib-{}", std::process::id()));
    let mock = MockServer::builder()
        .tls(true)
        .tls_dir(&given)
        .quiet(true)
        .start()
        .unwrap();
    assert_eq!(mock.ca_file(), Some(given.join("ca.pem").as_path()));
    drop(mock);
    assert!(given.join("ca.pem").is_file());
    let _ = std::fs::remove_dir_all(&given);
}
