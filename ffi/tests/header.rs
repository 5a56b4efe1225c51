//! The contract between include/qovery_redeploy.h and the library C programs link.
//!
//! - Drift: the committed header must be exactly what cbindgen (pinned as a dev-dependency,
//!   so every machine generates the same bytes) makes from ffi/src and ffi/cbindgen.toml
//!   today. A change to the API without a regenerated header fails here. To regenerate:
//!   `QOVERY_BLESS_HEADER=1 cargo test -p qovery-redeploy-ffi --test header`, then commit.
//! - Exports: every symbol the shared library exports is `qovery_*`, they are exactly the
//!   functions the header declares (a function missing from either side is a link error or
//!   dead API for C users), and the soname is `libqovery_redeploy.so.<sover>`. Read with
//!   binutils' nm/readelf, the tools a packager would use.
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const HEADER: &str = "include/qovery_redeploy.h";
const BLESS: &str = "QOVERY_BLESS_HEADER";

/// The header cbindgen generates now, into memory.
fn generate() -> String {
    let root = support::root();
    let mut config = cbindgen::Config::from_file(root.join("ffi/cbindgen.toml"))
        .expect("read ffi/cbindgen.toml");
    // The version macros come from the crate's version (Cargo.toml), so a version bump
    // without a regenerated header is drift too.
    let (major, minor, patch) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    config.after_includes = Some(format!(
        "/* This header's library version; compare with qovery_version() at run time. */\n\
         #define QOVERY_VERSION \"{}\"\n\
         #define QOVERY_VERSION_MAJOR {major}\n\
         #define QOVERY_VERSION_MINOR {minor}\n\
         #define QOVERY_VERSION_PATCH {patch}\n",
        env!("CARGO_PKG_VERSION")
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(root.join("ffi"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// Where two texts first differ, with a few lines of context, for the failure message.
fn first_difference(committed: &str, fresh: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), fresh.lines().collect());
    let at = (0..a.len().max(b.len()))
        .find(|&i| a.get(i) != b.get(i))
        .unwrap_or(0);
    let context = |lines: &[&str], sign: char| {
        lines
            .iter()
            .enumerate()
            .skip(at.saturating_sub(2))
            .take(6)
            .map(|(i, l)| format!("{sign}{:5} {l}\n", i + 1))
            .collect::<String>()
    };
    format!(
        "first difference at line {}:\ncommitted:\n{}generated:\n{}",
        at + 1,
        context(&a, '-'),
        context(&b, '+')
    )
}

#[test]
fn header_is_what_cbindgen_generates() {
    let path = support::root().join(HEADER);
    let fresh = generate();
    if std::env::var_os(BLESS).is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write the header");
        println!("wrote {HEADER}");
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("read the committed header");
    assert!(
        committed == fresh,
        "{HEADER} is out of date: regenerate it with `{BLESS}=1 cargo test -p \
         qovery-redeploy-ffi --test header` and commit it; {}",
        first_difference(&committed, &fresh)
    );
}

/// `qovery_*` identifiers directly followed by `(` in the header: its functions.
fn declared_functions(header: &str) -> BTreeSet<String> {
    let bytes = header.as_bytes();
    let ident = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    let mut found = BTreeSet::new();
    for (start, _) in header.match_indices("qovery_") {
        if start > 0 && (ident(bytes[start - 1]) || bytes[start - 1].is_ascii_uppercase()) {
            continue;
        }
        let end = start + bytes[start..].iter().take_while(|&&b| ident(b)).count();
        if bytes.get(end) == Some(&b'(') {
            found.insert(header[start..end].to_string());
        }
    }
    found
}

fn tool(program: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (binutils: bash .ci/provision)"));
    assert!(out.status.success(), "{program} {args:?} failed: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn exports_are_the_header_functions_and_the_soname_is_set() {
    let so = support::shared_library();
    let exported: BTreeSet<String> = tool("nm", &["-D", "--defined-only", "--format=posix"], &so)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let stray: Vec<&String> = exported
        .iter()
        .filter(|s| !s.starts_with("qovery_"))
        .collect();
    assert!(
        stray.is_empty(),
        "exported symbols without the qovery_ prefix: {stray:?}"
    );
    let header = std::fs::read_to_string(support::root().join(HEADER)).expect("read the header");
    let declared = declared_functions(&header);
    assert_eq!(
        declared.difference(&exported).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "declared by the header but not exported"
    );
    assert_eq!(
        exported.difference(&declared).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "exported but not declared by the header"
    );

    let soname = format!("[libqovery_redeploy.so.{}]", support::sover());
    let dynamic = tool("readelf", &["-d"], &so);
    assert!(
        dynamic
            .lines()
            .any(|l| l.contains("(SONAME)") && l.contains(&soname)),
        "no SONAME {soname} in readelf -d:\n{dynamic}"
    );
    println!(
        "{} exported symbols, all qovery_*, all declared; soname {soname}",
        exported.len()
    );
}
