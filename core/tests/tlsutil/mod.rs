//! Test support for the TLS and proxy suites: `qovery-mock --tls` in this process, a counting TCP
//! forwarder (to see how many connections / handshakes a client opened), a real `tinyproxy`
//! with a generated configuration, and a closed loopback port. Loopback only; every wait is
//! bounded.
#![allow(dead_code)]

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "qovery-mock-token";

/// A fresh private directory under the system temp dir (removed by its owner's Drop).
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "qovery-test-{tag}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fastrand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// qovery-mock --tls

pub struct TlsMock {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub ca_file: PathBuf,
    pub port: u16,
    server: qovery_mock::MockServer,
}

impl TlsMock {
    /// `--tls` plus `args` (its CA in a temporary directory the mock removes when dropped).
    pub fn start(args: &[&str]) -> TlsMock {
        let server = super::common::mock_server(&[&["--tls"], args].concat());
        let url = server.url().to_owned();
        let ca_file = server
            .ca_file()
            .expect("a CA file with --tls")
            .to_path_buf();
        assert!(url.starts_with("https://127.0.0.1:"), "mock said {url:?}");
        assert!(ca_file.is_file(), "CA file {ca_file:?} missing");
        TlsMock {
            port: port_of(&url),
            url,
            ca_file,
            server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn configure(&self, db: &str, config: &str) {
        self.server
            .put_database(db, super::common::json_body(config))
            .unwrap_or_else(|e| panic!("configure {db}: {e}"));
    }

    pub fn fault(&self, db: &str, fault: &str) {
        self.server
            .add_faults(db, super::common::json_body(fault))
            .unwrap_or_else(|e| panic!("fault {db}: {e}"));
    }

    pub fn requests(&self, db: &str) -> serde_json::Value {
        self.server.requests(db)
    }

    /// (redeploy POSTs, status GETs) the mock's application saw for `db`, all listeners.
    pub fn counts(&self, db: &str) -> (u64, u64) {
        let v = self.requests(db);
        (
            v["redeploy"].as_u64().unwrap(),
            v["status"].as_u64().unwrap(),
        )
    }

    /// What `GET /_mock/tls` answers.
    pub fn tls_info(&self) -> serde_json::Value {
        self.server.tls_info().expect("TLS info with --tls")
    }

    /// The address of one TLS-fault listener (`unknown_ca`, `wrong_host`, `expired`).
    pub fn fault_listener(&self, name: &str) -> SocketAddr {
        let info = self.tls_info();
        let url = info[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {info}"));
        assert!(url.starts_with("https://127.0.0.1:"), "{name}: {url}");
        SocketAddr::from(([127, 0, 0, 1], port_of(url)))
    }
}

// ---------------------------------------------------------------------------------------
// A counting TCP forwarder

/// Listens on 127.0.0.1 and relays every connection, byte for byte, to `target`; counts the
/// connections (each TLS connection through it is one handshake attempt). Stops when dropped.
pub struct Forwarder {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Forwarder {
    pub fn start(target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (connections, stop) = (connections.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            client.set_nonblocking(false).unwrap();
                            let Ok(server) =
                                TcpStream::connect_timeout(&target, Duration::from_secs(5))
                            else {
                                continue;
                            };
                            relay(client, server);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Forwarder {
            addr,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `https://127.0.0.1:PORT` (the mock's certificate names 127.0.0.1).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

fn relay(a: TcpStream, b: TcpStream) {
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            // Bounded: a relayed connection idle for 60 s is dropped.
            let _ = from.set_read_timeout(Some(Duration::from_secs(60)));
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
            let _ = from.shutdown(Shutdown::Read);
        });
    };
    pipe(a.try_clone().unwrap(), b.try_clone().unwrap());
    pipe(b, a);
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// A closed port

/// A loopback port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

// ---------------------------------------------------------------------------------------
// tinyproxy

/// A real `tinyproxy` on 127.0.0.1 (ephemeral port), configured in a private directory,
/// killed when dropped. CONNECT is allowed to `connect_port` only.
pub struct Tinyproxy {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl Tinyproxy {
    pub fn start(connect_port: u16) -> Tinyproxy {
        let bin = which("tinyproxy").unwrap_or_else(|| {
            panic!(
                "tinyproxy is not installed: apt-get install -y tinyproxy (scripts/test.sh does)"
            )
        });
        // The port is chosen by binding :0 and releasing it; retried if tinyproxy lost a race.
        for _attempt in 0..5 {
            let dir = temp_dir("tinyproxy");
            let port = dead_port();
            let conf = dir.join("tinyproxy.conf");
            std::fs::write(
                &conf,
                format!(
                    "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nConnectPort {connect_port}\n\
                     LogFile \"{log}\"\nLogLevel Connect\nPidFile \"{pid}\"\nMaxClients 50\nTimeout 30\n",
                    log = dir.join("tinyproxy.log").display(),
                    pid = dir.join("tinyproxy.pid").display(),
                ),
            )
            .unwrap();
            let mut child = Command::new(&bin)
                .arg("-d")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start tinyproxy");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Tinyproxy { port, dir, child };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
        }
        panic!("tinyproxy did not start listening within 5 attempts");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }

    /// The request lines tinyproxy logged (`CONNECT 127.0.0.1:PORT HTTP/1.1`, `GET http://...`).
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("): ").filter(|_| l.contains("Request (")))
            .map(|(_, r)| r.to_owned())
            .collect()
    }

    /// How many CONNECTs to `127.0.0.1:port` it logged (it logs a request on arrival; this
    /// waits up to 2 s for at least `at_least` of them to show).
    pub fn connects_to(&self, port: u16, at_least: usize) -> usize {
        let needle = format!("CONNECT 127.0.0.1:{port} ");
        let started = Instant::now();
        loop {
            let n = self
                .requests()
                .iter()
                .filter(|r| r.starts_with(&needle))
                .count();
            if n >= at_least || started.elapsed() > Duration::from_secs(2) {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/usr/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
