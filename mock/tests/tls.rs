//! `--tls`: the stdout protocol, HTTPS on the main listener, `/_mock/tls`
//! and the three TLS-fault listeners (with a rustls client trusting only the
//! CA file the mock wrote).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustls::CertificateError;

use common::*;

fn auth() -> String {
    format!("Token {TOKEN}")
}

/// `https://127.0.0.1:P` -> `127.0.0.1:P`
fn addr_of(url: &Value) -> String {
    let url = url.as_str().expect("a URL string");
    let addr = url
        .strip_prefix("https://127.0.0.1:")
        .expect("https://127.0.0.1:P");
    assert!(addr.parse::<u16>().is_ok_and(|p| p > 0), "{url}");
    format!("127.0.0.1:{addr}")
}

#[test]
fn stdout_protocol_and_one_kept_alive_tls_connection() {
    let mut m = Mock::spawn_tls(&["--database", DB, "--tick-ms", "0"]);
    let port = m
        .url
        .strip_prefix("https://127.0.0.1:")
        .expect("line 1 is the https URL");
    assert!(port.parse::<u16>().is_ok());
    let ca = m.ca_file.clone().expect("line 2");
    assert!(ca.is_absolute(), "{ca:?}");
    assert_eq!(ca.file_name().unwrap(), "ca.pem");
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"));

    // status GET, redeploy POST, control GET: one TLS connection, ALPN http/1.1
    let mut c = m.connect();
    assert_eq!(c.stream.alpn().as_deref(), Some(&b"http/1.1"[..]));
    c.send(
        "GET",
        &format!("/database/{DB}/status"),
        &[("Authorization", &auth())],
        None,
    );
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("connection"), None);
    let j = r.json();
    assert_eq!(
        (j["id"].as_str(), j["state"].as_str()),
        (Some(DB), Some("DEPLOYED"))
    );
    c.send(
        "POST",
        &format!("/database/{DB}/redeploy"),
        &[("Authorization", &auth())],
        None,
    );
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let j = r.json();
    assert_eq!(j["id"], DB);
    assert_eq!(j["state"], "QUEUED");
    assert!(j["deployment_request_id"].is_string());
    c.send("GET", "/_mock/tls", &[], None);
    let info = c.read_response().unwrap().json();
    let keys: Vec<&String> = info.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["ca_file", "expired", "unknown_ca", "wrong_host"]);
    assert_eq!(info["ca_file"], ca.to_str().unwrap());
    let mut addrs: Vec<String> = ["unknown_ca", "wrong_host", "expired"]
        .iter()
        .map(|k| addr_of(&info[k]))
        .collect();
    addrs.push(m.addr.clone());
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 4, "four distinct listeners");
    c.send("GET", "/_mock/health", &[("Connection", "close")], None);
    let r = c.read_response().unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());

    let log = m.requests(DB);
    assert_eq!(
        (log["redeploy"].as_u64(), log["status"].as_u64()),
        (Some(1), Some(1))
    );

    // the certificate also names localhost; TLS 1.2 works; h2 is not offered back
    let cfg12 = client_config_with(&ca, &[&rustls::version::TLS12], &[b"h2", b"http/1.1"]);
    for (config, name) in [(m.tls.clone().unwrap(), "localhost"), (cfg12, "127.0.0.1")] {
        let mut c = Client::connect_tls(&m.addr, &config, name).expect("handshake");
        assert_eq!(c.stream.alpn().as_deref(), Some(&b"http/1.1"[..]));
        c.send("GET", "/_mock/health", &[], None);
        assert_eq!(c.read_response().unwrap().json(), json!({"ok": true}));
    }

    // exactly two lines on stdout, ever
    assert_eq!(m.kill_and_read_rest_of_stdout(), "");
}

#[test]
fn tls_fault_listeners_fail_the_handshake_and_never_reach_the_app() {
    let m = Mock::start_tls(&["--database", DB, "--tick-ms", "0"]);
    let info = m.control("GET", "/_mock/tls", None).json();
    let config = m.tls.clone().unwrap();
    type Check = fn(&CertificateError) -> bool;
    let cases: [(&str, Check); 3] = [
        ("unknown_ca", |e| {
            matches!(e, CertificateError::UnknownIssuer)
        }),
        ("wrong_host", |e| {
            matches!(
                e,
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        }),
        ("expired", |e| {
            matches!(
                e,
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        }),
    ];
    let redeploy = format!(
        "POST /database/{DB}/redeploy HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 0\r\n\r\n",
        auth()
    );
    for (name, expected) in cases {
        let addr = addr_of(&info[name]);
        for server_name in ["127.0.0.1", "localhost"] {
            // explicit handshake
            let err = match Stream::tls(&addr, &config, server_name) {
                Ok(_) => panic!("{name}: the handshake succeeded for {server_name}"),
                Err(e) => e,
            };
            match rustls_error(&err) {
                Some(rustls::Error::InvalidCertificate(ce)) if expected(ce) => {}
                other => panic!("{name} ({server_name}): unexpected error {err} / {other:?}"),
            }
        }
        // a client that just writes the request: rustls refuses to send it
        let tcp = TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let conn =
            rustls::ClientConnection::new(config.clone(), "127.0.0.1".try_into().unwrap()).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let sent = s.write_all(redeploy.as_bytes()).and_then(|_| s.flush());
        let mut buf = [0u8; 256];
        let got = s.read(&mut buf);
        assert!(
            sent.is_err() || got.is_err(),
            "{name}: the exchange went through ({got:?})"
        );
    }
    // a client that does not check certificates at all would still be
    // served; one that checks them never got a request through:
    let log = m.requests(DB);
    assert_eq!(log["redeploy"], 0, "{log}");
    assert_eq!(log["status"], 0, "{log}");
    assert_eq!(log["log"], json!([]), "{log}");
    assert_eq!(m.redeploy(DB).status, 202);
    assert_eq!(m.requests(DB)["redeploy"], 1);
}

#[test]
fn bad_handshakes_only_close_their_connection() {
    let m = Mock::start_tls(&["--database", DB]);
    // plain HTTP on the TLS port: no HTTP answer, just a close (maybe after an alert)
    let mut raw = TcpStream::connect(&m.addr).unwrap();
    raw.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    raw.write_all(format!("GET /database/{DB}/status HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..100 {
        match raw.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert!(t.elapsed() < IO_TIMEOUT, "the server did not close");
    assert!(!got.windows(5).any(|w| w == b"HTTP/"), "{got:?}");
    // a silent client and one stuck mid-handshake do not block anyone
    let _silent = TcpStream::connect(&m.addr).unwrap();
    let mut partial = TcpStream::connect(&m.addr).unwrap();
    partial.write_all(b"\x16\x03\x01\x00\x50\x01").unwrap();
    // garbage that looks nothing like TLS
    let mut junk = TcpStream::connect(&m.addr).unwrap();
    let _ = junk.write_all(&[0xff; 64]);
    drop(junk);
    assert_eq!(m.status(DB).status, 200);
    let log = m.requests(DB);
    assert_eq!(log["status"], 1, "{log}");
    assert_eq!(log["log"].as_array().unwrap().len(), 1);
}

#[test]
fn without_tls_stdout_and_control_are_unchanged() {
    let mut m = Mock::spawn(
        &["--port", "0", "--quiet", "--database", DB],
        std::process::Stdio::null(),
    )
    .0;
    let port = m.url.strip_prefix("http://127.0.0.1:").expect("http URL");
    assert!(port.parse::<u16>().is_ok(), "{}", m.url);
    assert!(m.ca_file.is_none());
    let r = m.control("GET", "/_mock/tls", None);
    assert_eq!(r.status, 404);
    let j = r.json();
    assert_eq!(j["status"], 404);
    assert!(j["detail"].as_str().unwrap().contains("--tls"), "{j}");
    assert_eq!(m.control("POST", "/_mock/tls", None).status, 404);
    assert_eq!(m.kill_and_read_rest_of_stdout(), "", "one line only");
}

#[test]
fn default_tls_dir_is_a_fresh_temp_dir() {
    // no --tls-dir: <tmp>/qovery-mock-<pid>-<random>/ca.pem; removed on stdin EOF
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qovery-mock"))
        .args(["--port", "0", "--quiet", "--tls", "--exit-on-stdin-eof"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(stdout);
        let (mut a, mut b) = (String::new(), String::new());
        let _ = r.read_line(&mut a);
        let _ = r.read_line(&mut b);
        let _ = tx.send((a, b));
    });
    let Ok((url, ca)) = rx.recv_timeout(IO_TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no startup lines");
    };
    let ca = std::path::PathBuf::from(ca.trim_end());
    let dir = ca.parent().unwrap().to_path_buf();
    let dir_name = dir.file_name().unwrap().to_str().unwrap().to_string();
    let ok_name = dir_name.starts_with(&format!("qovery-mock-{pid}-"));
    let ok_place = dir.parent() == Some(std::env::temp_dir().as_path());
    let works = std::fs::metadata(&ca).is_ok() && {
        let config = client_config(&ca);
        let addr = url.trim_end().trim_start_matches("https://").to_string();
        let mut c = Client::connect_tls(&addr, &config, "127.0.0.1").unwrap();
        c.send("GET", "/_mock/health", &[], None);
        c.read_response().unwrap().status == 200
    };
    drop(child.stdin.take());
    let exited = poll(100, Duration::from_millis(50), || {
        child.try_wait().ok().flatten()
    });
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let removed = !dir.exists();
    if !removed {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(ok_name && ok_place, "{dir:?}");
    assert!(works);
    assert!(exited.is_some(), "did not exit on stdin EOF");
    assert!(removed, "{dir:?} left behind");
}
