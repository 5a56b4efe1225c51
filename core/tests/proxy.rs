//! A real HTTP proxy (tinyproxy, started here with a generated configuration) in front of
//! `qovery-mock --tls`: an explicit proxy tunnels the calls (CONNECT in the proxy's log), a
//! dead proxy is a retried `network` error that sends nothing, credentials in a proxy URL
//! never show, invalid proxy URLs are `invalid_input`.
//!
//! The environment variables (`HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`, `NO_PROXY`,
//! `HTTP_PROXY`, `QOVERY_CA_BUNDLE`, `SSL_CERT_FILE`) are tested in child processes: the
//! test `env_*` re-runs this binary's ignored `child_scenario` with the variables set on the
//! child only, so no test here mutates its own environment (reqwest and the system CA store
//! read it once per client / process, and other tests run in parallel).

mod common;
mod tlsutil;

use std::process::Command;
use std::time::{Duration, Instant};

use qovery_redeploy::{Client, ErrorKind, RedeployOptions};
use tlsutil::{dead_port, temp_dir, Tinyproxy, TlsMock, TOKEN};

const SECRET: &str = "s3cretpw";

fn db() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Every proxy variable a child process must not inherit.
const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "QOVERY_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

#[test]
fn explicit_proxy_tunnels_https_with_connect() {
    let mock = TlsMock::start(&["--any-database"]);
    let proxy = Tinyproxy::start(mock.port);
    let id = db();
    mock.configure(&id, "{}");
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .ca_file(&mock.ca_file)
        .proxy(proxy.url())
        .max_retries(0)
        .build()
        .unwrap();
    let accepted = c
        .redeploy_database(&id, RedeployOptions::default())
        .expect("redeploy through the proxy");
    assert_eq!(accepted.id.expect("the mock sends an id").to_string(), id);
    c.database_status(&id).expect("status through the proxy");
    assert_eq!(mock.counts(&id), (1, 1));
    assert_eq!(
        proxy.connects_to(mock.port, 1),
        1,
        "one CONNECT tunnel, reused by both calls; proxy log:\n{}",
        proxy.log()
    );
    // Nothing but CONNECT went to the proxy (no plain-text request with the token).
    for r in proxy.requests() {
        assert!(r.starts_with("CONNECT "), "{r}");
    }
}

#[test]
fn dead_proxy_is_a_retried_network_error_and_sends_nothing() {
    common::capture_logs();
    let mock = TlsMock::start(&["--any-database"]);
    let id = db();
    mock.configure(&id, "{}");
    let dead = dead_port();
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .ca_file(&mock.ca_file)
        .proxy(format!("http://127.0.0.1:{dead}"))
        .max_retries(2)
        .deadline(Duration::from_secs(20))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), ErrorKind::Network, "{e:?}");
    assert!(e.is_transient(), "{e:?}");
    // "not sent": a redeploy that failed before anything left is retried like a GET.
    let attempts = common::logged()
        .iter()
        .filter(|l| l.contains(&id) && l.contains("-> failed:"))
        .count();
    assert_eq!(
        attempts,
        3,
        "1 attempt + 2 retries: {:#?}",
        common::logged()
    );
    assert_eq!(mock.counts(&id), (0, 0), "nothing reached the mock");
    eprintln!("dead proxy: {e} ({attempts} attempts in {took:?})");
}

#[test]
fn proxy_credentials_never_show() {
    common::capture_logs();
    let mock = TlsMock::start(&["--any-database"]);
    let id = db();
    let dead = dead_port();
    let url = format!("http://user:{SECRET}@127.0.0.1:{dead}");
    let builder = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .ca_file(&mock.ca_file)
        .proxy(&url)
        .max_retries(1);
    common::assert_no_secret(&format!("{builder:?}"), SECRET);
    let c = builder.build().unwrap();
    let e = c.database_status(&id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e:?}");
    common::assert_no_secret(&e.to_string(), SECRET);
    common::assert_no_secret(&format!("{e:?}"), SECRET);
    common::assert_no_secret(e.message(), SECRET);
    common::assert_no_secret(&common::logged().join("\n"), SECRET);
    let e = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap_err();
    common::assert_no_secret(&format!("{e} {e:?}"), SECRET);
    common::assert_no_secret(&common::logged().join("\n"), SECRET);
}

#[test]
fn invalid_proxy_urls_are_invalid_input() {
    for url in [
        "ftp://x",
        "not a url",
        "",
        "http://",
        &format!("ftp://user:{SECRET}@127.0.0.1:21"),
    ] {
        let e = Client::builder()
            .token(TOKEN)
            .base_url("https://127.0.0.1:9")
            .proxy(url)
            .build()
            .err()
            .unwrap_or_else(|| panic!("proxy {url:?} accepted"));
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{url:?}: {e:?}");
        common::assert_no_secret(&format!("{e} {e:?}"), SECRET);
    }
}

#[test]
fn explicit_proxy_is_not_used_for_plain_http_loopback() {
    let mock = common::Mock::start(&["--any-database"]);
    let proxy = Tinyproxy::start(1);
    let id = db();
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .proxy(proxy.url())
        .max_retries(0)
        .build()
        .unwrap();
    c.database_status(&id).expect("direct plain-http call");
    assert_eq!(mock.counts(&id), (0, 1));
    std::thread::sleep(Duration::from_millis(200));
    assert!(proxy.requests().is_empty(), "{}", proxy.log());
}

#[test]
fn no_proxy_ignores_an_explicit_proxy() {
    let mock = TlsMock::start(&["--any-database"]);
    let dead = dead_port();
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock.url)
        .ca_file(&mock.ca_file)
        .proxy(format!("http://127.0.0.1:{dead}"))
        .no_proxy()
        .max_retries(0)
        .build()
        .unwrap();
    c.database_status(&db()).expect("direct");
}

// ---------------------------------------------------------------------------------------
// Environment variables, in child processes

/// Runs `child_scenario` in a child process with `env` (and no other proxy / CA variable):
/// the child builds a client (token and base URL given, nothing else), reads the status of a
/// fresh database and checks the outcome is `expect` (`ok` or an error kind name).
fn child(url: &str, env: &[(&str, &str)], expect: &str) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_scenario",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd.env("QOVERY_TEST_CHILD_URL", url)
        .env("QOVERY_TEST_CHILD_EXPECT", expect)
        .envs(env.iter().copied());
    let out = cmd.output().expect("run the child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child with {env:?} expecting {expect}:\n{text}"
    );
    text
}

/// Not a test on its own: run by `child()` with its variables.
#[test]
#[ignore = "run by the env_* tests in a child process"]
fn child_scenario() {
    let (Ok(url), Ok(expect)) = (
        std::env::var("QOVERY_TEST_CHILD_URL"),
        std::env::var("QOVERY_TEST_CHILD_EXPECT"),
    ) else {
        return; // run by hand with --ignored: nothing to do
    };
    let built = Client::builder()
        .token(TOKEN)
        .base_url(&url)
        .max_retries(1)
        .deadline(Duration::from_secs(20))
        .build();
    let outcome = built.and_then(|c| c.database_status(&db()).map(|_| ()));
    match (&outcome, expect.as_str()) {
        (Ok(()), "ok") => {}
        (Err(e), kind) if e.kind().name() == kind => {
            common::assert_no_secret(&format!("{e} {e:?}"), SECRET);
            eprintln!("child: expected {kind}: {e}");
        }
        _ => panic!("expected {expect}, got {outcome:?}"),
    }
}

#[test]
fn env_https_proxy_variables_tunnel_https() {
    let mock = TlsMock::start(&["--any-database"]);
    let ca = mock.ca_file.to_str().unwrap();
    for var in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        let proxy = Tinyproxy::start(mock.port);
        child(
            &mock.url,
            &[(var, &proxy.url()), ("QOVERY_CA_BUNDLE", ca)],
            "ok",
        );
        assert_eq!(
            proxy.connects_to(mock.port, 1),
            1,
            "{var}: proxy log:\n{}",
            proxy.log()
        );
    }
}

fn no_proxy_goes_direct(values: &[&str]) {
    let mock = TlsMock::start(&["--any-database"]);
    let ca = mock.ca_file.to_str().unwrap();
    for &no_proxy in values {
        let proxy = Tinyproxy::start(mock.port);
        child(
            &mock.url,
            &[
                ("HTTPS_PROXY", &proxy.url()),
                ("NO_PROXY", no_proxy),
                ("QOVERY_CA_BUNDLE", ca),
            ],
            "ok",
        );
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            proxy.requests().is_empty(),
            "NO_PROXY={no_proxy}: proxy log:\n{}",
            proxy.log()
        );
    }
}

#[test]
fn env_no_proxy_goes_direct() {
    no_proxy_goes_direct(&[
        "127.0.0.1",
        "localhost,127.0.0.1",
        "127.0.0.0/8",
        "::1,127.0.0.1",
    ]);
}

/// `NO_PROXY=*` means "no proxy for any host" as in curl, IP-literal API URLs included
/// (hyper-util's matcher applies `*` to domain names only; core/src/transport.rs handles it).
#[test]
fn env_no_proxy_star_goes_direct() {
    no_proxy_goes_direct(&["*"]);
}

#[test]
fn env_dead_https_proxy_is_a_network_error() {
    let mock = TlsMock::start(&["--any-database"]);
    let dead = format!("http://user:{SECRET}@127.0.0.1:{}", dead_port());
    child(
        &mock.url,
        &[
            ("HTTPS_PROXY", &dead),
            ("QOVERY_CA_BUNDLE", mock.ca_file.to_str().unwrap()),
        ],
        "network",
    );
}

#[test]
fn env_proxies_are_not_used_for_plain_http_loopback() {
    let mock = common::Mock::start(&["--any-database"]);
    let proxy = Tinyproxy::start(1);
    let p = proxy.url();
    child(
        &mock.url,
        &[
            ("HTTP_PROXY", &p),
            ("http_proxy", &p),
            ("ALL_PROXY", &p),
            ("HTTPS_PROXY", &p),
        ],
        "ok",
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(proxy.requests().is_empty(), "{}", proxy.log());
}

#[test]
fn env_ca_bundle_and_ssl_cert_file() {
    let mock = TlsMock::start(&["--any-database"]);
    let ca = mock.ca_file.to_str().unwrap();
    let dir = temp_dir("env-bundles");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "garbage\n").unwrap();
    let missing = dir.join("missing.pem");
    let (empty, garbage, missing) = (
        empty.to_str().unwrap(),
        garbage.to_str().unwrap(),
        missing.to_str().unwrap(),
    );
    // Without any: the mock's CA is unknown.
    child(&mock.url, &[], "tls");
    child(&mock.url, &[("QOVERY_CA_BUNDLE", ca)], "ok");
    for bad in [empty, garbage, missing] {
        child(&mock.url, &[("QOVERY_CA_BUNDLE", bad)], "invalid_input");
    }
    // SSL_CERT_FILE replaces the system store: the mock's CA alone is enough.
    child(&mock.url, &[("SSL_CERT_FILE", ca)], "ok");
    for bad in [empty, missing] {
        child(&mock.url, &[("SSL_CERT_FILE", bad)], "invalid_input");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
