//! The Rust contender: `qovery_redeploy::Client` called directly, same protocol as the C
//! contenders (bench/c/common.h):
//!
//!     qovery-redeploy-bench seq|threads URL TOKEN DATABASE_ID N WARMUP THREADS [CA_FILE]
//!
//! CA_FILE: for an https:// URL, the PEM file of the CA to trust (`ClientBuilder::ca_file`).
//! `seq`: WARMUP untimed calls, then N timed `redeploy_database` calls on one client (the
//! answer parsed into a typed `DeploymentStatus`, whose state is read): per-call ns.
//! `threads`: THREADS threads sharing one client, N calls in all after a common start:
//! wall-clock ns. Prints one JSON object on stdout.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use qovery_redeploy::{Client, RedeployOptions};

/// CPU time of the whole process (every thread), ns.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer; CLOCK_PROCESS_CPUTIME_ID always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Peak resident set of this process (VmHWM), KiB; -1 if unknown.
fn vm_hwm_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(-1)
}

fn call(client: &Client, db: &str) -> u64 {
    match client.redeploy_database(db, RedeployOptions::default()) {
        Ok(status) => {
            std::hint::black_box(status.state.as_str());
            0
        }
        Err(e) => {
            eprintln!("redeploy: {e}");
            1
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 8 && args.len() != 9 {
        eprintln!(
            "usage: {} seq|threads URL TOKEN DATABASE_ID N WARMUP THREADS [CA_FILE]",
            args[0]
        );
        std::process::exit(2);
    }
    let (mode, url, token, db) = (&args[1], &args[2], &args[3], args[4].clone());
    let num = |i: usize| -> usize { args[i].parse().expect("N, WARMUP and THREADS are numbers") };
    let (n, warmup, threads) = (num(5), num(6), num(7).max(1));
    let mut builder = Client::builder().token(token.as_str()).base_url(url.as_str());
    if let Some(ca) = args.get(8) {
        builder = builder.ca_file(ca);
    }
    let client = builder
        .build()
        .unwrap_or_else(|e| {
            eprintln!("client: {e}");
            std::process::exit(1)
        });
    let mut errors = 0;
    let mut out = format!("{{\"contender\":\"rust\",\"mode\":\"{mode}\",");
    match mode.as_str() {
        "seq" => {
            for _ in 0..warmup {
                errors += call(&client, &db);
            }
            let mut lat = Vec::with_capacity(n);
            let c0 = cpu_ns();
            for _ in 0..n {
                let t0 = Instant::now();
                errors += call(&client, &db);
                lat.push(t0.elapsed().as_nanos() as u64);
            }
            let cpu = cpu_ns() - c0;
            let list: Vec<String> = lat.iter().map(u64::to_string).collect();
            out += &format!(
                "\"lat_ns\":[{}],\"cpu_ns\":{cpu},\"errors\":{errors}",
                list.join(",")
            );
        }
        "threads" => {
            let ready = Arc::new(Barrier::new(threads + 1));
            let start = Arc::new(Barrier::new(threads + 1));
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let share = n / threads + usize::from(i < n % threads);
                    let (client, db) = (client.clone(), db.clone());
                    let (ready, start) = (ready.clone(), start.clone());
                    std::thread::spawn(move || {
                        let mut errors = 0;
                        for _ in 0..warmup {
                            errors += call(&client, &db);
                        }
                        ready.wait();
                        start.wait();
                        for _ in 0..share {
                            errors += call(&client, &db);
                        }
                        errors
                    })
                })
                .collect();
            ready.wait();
            let (t0, c0) = (Instant::now(), cpu_ns());
            start.wait();
            for h in handles {
                errors += h.join().expect("worker thread");
            }
            let (wall, cpu) = (t0.elapsed().as_nanos(), cpu_ns() - c0);
            out += &format!(
                "\"threads\":{threads},\"wall_ns\":{wall},\"cpu_ns\":{cpu},\"calls\":{n},\"errors\":{errors}"
            );
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
    println!("{out},\"hwm_kib\":{}}}", vm_hwm_kib());
    std::process::exit(i32::from(errors > 0));
}
