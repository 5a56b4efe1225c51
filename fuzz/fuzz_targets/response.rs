//! The client's whole response path, fed arbitrary bytes by a loopback server.
//!
//! A TCP listener on 127.0.0.1 is started once per process. For every connection it reads
//! the request head, answers with exactly the current fuzz input, shuts its write side and
//! closes: the client always sees the input followed by end of stream, so no call ever
//! waits for a timeout on the way.
//!
//! For each input a fresh `Client` (fresh connection pool, token `TOKEN`, 1 s request
//! timeout, no retries) makes the two API calls, `redeploy_database` (POST) first and then
//! `database_status` (GET). The GET may find the POST's kept-alive connection closed by the
//! server and reconnect: that is the idle keep-alive path, and it ends the same way whichever
//! way the race goes. (The other order would not: a POST on a stale connection is never
//! resent, by design.)
//!
//! Properties, for both calls:
//! - no panic, whatever the bytes (status line, headers, framing, body, error body);
//! - an `Err` never shows the token in `Display` or `Debug`, verbatim or case-folded by the
//!   client (see `leak`), and prints as one line;
//! - an `Err`'s kind is one an answer can cause: never `InvalidInput` (the arguments are
//!   valid), `Tls` (plain http), `Cancelled` (no cancel hook), the wait kinds, or `Timeout`
//!   (the server always closes at once; see below);
//! - kinds named after a status carry that status; a POST never ends as a bare
//!   `Network`/`Timeout` (a redeploy without an answer is `OutcomeUnknown`).
//!
//! `Timeout` counts as a finding: the server has closed the connection within microseconds,
//! so a client still waiting a whole second later missed the end of stream.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qovery_redeploy::{Client, Error, ErrorKind, RedeployOptions};

/// The API token the client sends. fuzz/dict/response.dict holds it too, so the fuzzer
/// tries answers that echo it back (as a hostile server may echo the Authorization header).
const TOKEN: &str = "qov-Fuzz-S3cret-Tok3n-7f1d2a3b";
const DATABASE: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

struct Server {
    url: String,
    /// The answer every new connection gets: the current fuzz input.
    answer: Arc<Mutex<Arc<Vec<u8>>>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer: Arc<Mutex<Arc<Vec<u8>>>> = Arc::default();
        let current = answer.clone();
        std::thread::Builder::new()
            .name("fuzz-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let bytes = current.lock().unwrap().clone();
                    serve(stream, &bytes);
                }
            })
            .expect("spawn the server thread");
        Server { url, answer }
    })
}

/// Reads the request head (the client sends body-less requests), so closing does not reset
/// the connection over unread bytes; then writes the answer and closes.
fn serve(mut stream: TcpStream, answer: &[u8]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(answer);
    let _ = stream.shutdown(Shutdown::Write);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `text` shows the token: verbatim, or with its case changed by the client (a
/// lowercased token is still the token, give or take 2^letters guesses). A case variant the
/// server sent as such is not the token and may be shown; one that is not in the answer was
/// made by the client from the token it was sent.
fn leak(text: &str, answer: &[u8]) -> Option<&'static str> {
    if text.contains(TOKEN) {
        return Some("verbatim");
    }
    if !contains(answer, TOKEN.as_bytes()) {
        return None;
    }
    let folded = text.to_ascii_lowercase();
    let needle = TOKEN.to_ascii_lowercase();
    // ASCII case folding keeps byte offsets, so a match in `folded` is a slice of `text`.
    folded
        .match_indices(&needle)
        .any(|(i, _)| !contains(answer, &text.as_bytes()[i..i + needle.len()]))
        .then_some("case-folded")
}

/// `FUZZ_VERBOSE=1` prints each call's outcome (scripts/fuzz.sh repro sets it).
fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("FUZZ_VERBOSE").is_some_and(|v| v != "0"))
}

fn check(call: &str, result: &Result<qovery_redeploy::DeploymentStatus, Error>, data: &[u8]) {
    if verbose() {
        match result {
            Ok(status) => eprintln!("{call}: Ok({})", status.to_json()),
            Err(e) => eprintln!("{call}: Err({}: {e})", e.kind()),
        }
    }
    let e = match result {
        Ok(status) => {
            let _ = status.to_json();
            return;
        }
        Err(e) => e,
    };
    let shown = e.to_string();
    let debug = format!("{e:?}");
    for text in [&shown, &debug] {
        if let Some(how) = leak(text, data) {
            panic!(
                "{call}: the token leaked ({how}) into an error: {text}\ninput: {:?}",
                String::from_utf8_lossy(data)
            );
        }
    }
    assert!(
        !shown.contains('\n') && !shown.contains('\r'),
        "{call}: error text is not one line: {shown:?}"
    );
    let post = call == "redeploy";
    let status = e.http_status();
    let ok = match e.kind() {
        ErrorKind::Unauthorized => status == Some(401),
        ErrorKind::Forbidden => status == Some(403),
        ErrorKind::NotFound => status == Some(404),
        ErrorKind::Conflict => matches!(status, Some(409) | Some(400)),
        ErrorKind::RateLimited => status == Some(429),
        ErrorKind::Server => matches!(status, Some(500..=599)),
        ErrorKind::Http | ErrorKind::Decode => true,
        ErrorKind::OutcomeUnknown => post,
        ErrorKind::Network => !post && status.is_none(),
        _ => false,
    };
    assert!(ok, "{call}: unexpected error kind for an answer: {debug}");
    if e.retry_after().is_some() {
        assert!(
            e.kind() == ErrorKind::RateLimited || status == Some(503),
            "{call}: retry_after on a {debug}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    *server.answer.lock().unwrap() = Arc::new(data.to_vec());
    let client = Client::builder()
        .token(TOKEN)
        .base_url(&server.url)
        .connect_timeout(REQUEST_TIMEOUT)
        .request_timeout(REQUEST_TIMEOUT)
        .deadline(REQUEST_TIMEOUT * 2)
        .max_retries(0)
        .build()
        .expect("a valid client");
    let options = RedeployOptions {
        apply_immediately: Some(true),
        cancel: None,
    };
    check(
        "redeploy",
        &client.redeploy_database(DATABASE, options),
        data,
    );
    check("status", &client.database_status(DATABASE), data);
});
