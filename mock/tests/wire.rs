//! HTTP/1.1 behaviour: keep-alive, Connection: close, pipelining, bad input.

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;

#[test]
fn keep_alive_and_connection_close() {
    keep_alive_and_connection_close_on(Mock::start(&["--database", DB, "--tick-ms", "0"]));
}

/// The same bytes, inside TLS.
#[test]
fn keep_alive_and_connection_close_over_tls() {
    keep_alive_and_connection_close_on(Mock::start_tls(&["--database", DB, "--tick-ms", "0"]));
}

fn keep_alive_and_connection_close_on(m: Mock) {
    let auth = format!("Token {TOKEN}");
    let mut c = m.connect();
    for _ in 0..3 {
        c.send(
            "POST",
            &format!("/database/{DB}/redeploy"),
            &[("Authorization", &auth)],
            None,
        );
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 202);
        assert_eq!(r.header("connection"), None);
        assert!(r.json()["deployment_request_id"].is_string());
    }
    c.send("GET", "/_mock/health", &[("Connection", "close")], None);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());

    // pipelined requests are answered in order
    let mut c = m.connect();
    let one =
        format!("GET /database/{DB}/status HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n");
    c.send_raw(format!("{one}{one}GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    assert_eq!(c.read_response().unwrap().status, 200);
    assert_eq!(c.read_response().unwrap().json()["id"], DB);
    assert_eq!(c.read_response().unwrap().json(), json!({"ok": true}));

    // HTTP/1.0 closes unless asked to keep alive
    let mut c = m.connect();
    c.send_raw(b"GET /_mock/health HTTP/1.0\r\n\r\n");
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert!(c.is_closed());
    let mut c = m.connect();
    c.send_raw(b"GET /_mock/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(
        c.read_response().unwrap().header("connection"),
        Some("keep-alive")
    );
    c.send_raw(b"GET /_mock/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.read_response().unwrap().status, 200);
}

#[test]
fn malformed_requests_get_400_and_close() {
    let m = Mock::start(&["--database", DB]);
    for raw in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n"[..],
        b"GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GET /x HTTP/9.9\r\n\r\n",
        b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
    ] {
        let mut c = m.connect();
        c.send_raw(raw);
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(raw));
        assert_eq!(r.json()["status"], 400);
        assert!(c.is_closed());
    }
    // oversized headers
    let mut c = m.connect();
    let mut big = b"GET /_mock/health HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(vec![b'a'; 70 * 1024]);
    big.extend(b"\r\n\r\n");
    // the server may answer and close before reading everything
    let _ = std::io::Write::write_all(&mut c.stream, &big);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 431);
    assert!(c.is_closed());
    // the server is still fine
    assert_eq!(m.control("GET", "/_mock/health", None).status, 200);
}

#[test]
fn chunked_and_expect_continue_request_bodies() {
    chunked_and_expect_continue_request_bodies_on(Mock::start(&[]));
}

/// The same bytes, inside TLS.
#[test]
fn chunked_and_expect_continue_request_bodies_over_tls() {
    chunked_and_expect_continue_request_bodies_on(Mock::start_tls(&[]));
}

fn chunked_and_expect_continue_request_bodies_on(m: Mock) {
    let body = json!({"outcome": "CANCELED"}).to_string();
    let mut c = m.connect();
    c.send_raw(
        format!(
            "PUT /_mock/databases/{DB} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["config"]["outcome"], "CANCELED");

    let mut c = m.connect();
    c.send_raw(
        format!(
            "PUT /_mock/databases/{DB} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let cont = c.read_response().unwrap();
    assert_eq!(cont.status, 100);
    c.send_raw(body.as_bytes());
    assert_eq!(c.read_response().unwrap().status, 200);
}

#[test]
fn idle_connections_do_not_block_others() {
    let m = Mock::start(&["--database", DB]);
    // a client that connects and says nothing, and one that stops mid-head
    let _idle = m.connect();
    let mut partial = m.connect();
    partial.send_raw(b"GET /_mock/health HTTP/1.1\r\nHost:");
    assert_eq!(m.status(DB).status, 200);
    // a client that disconnects mid-request does not hurt the server
    drop(partial);
    let mut raw = std::net::TcpStream::connect(&m.addr).unwrap();
    std::io::Write::write_all(
        &mut raw,
        b"POST /_mock/reset HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
    )
    .unwrap();
    drop(raw);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(m.status(DB).status, 200);
    let mut buf = [0u8; 1];
    let mut idle = m.connect();
    idle.stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(
        idle.stream.read(&mut buf).is_err(),
        "server must not talk first"
    );
}

#[test]
fn closed_stdout_and_stderr_do_not_hurt() {
    // a script that reads the URL line and closes both pipes
    let (mut m, stderr) = Mock::spawn(
        &["--port", "0", "--database", DB],
        std::process::Stdio::piped(),
    );
    drop(stderr);
    drop(m.stdout.take());
    // logging happens after each answer: keep-alive shows whether it survived
    let mut c = m.connect();
    let auth = format!("Token {TOKEN}");
    for _ in 0..5 {
        c.send(
            "GET",
            &format!("/database/{DB}/status"),
            &[("Authorization", &auth)],
            None,
        );
        assert_eq!(c.read_response().unwrap().status, 200);
        c.send(
            "POST",
            &format!("/database/{DB}/redeploy"),
            &[("Authorization", &auth)],
            None,
        );
        assert_eq!(c.read_response().unwrap().status, 202);
    }
}
