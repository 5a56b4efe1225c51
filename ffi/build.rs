//! Gives the shared library a soname (`libqovery_redeploy.so.<sover>`), the way cargo-c does:
//! `<major>` for versions >= 1, `0.<minor>` before 1.0, so an ABI break is a new file name.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let sover = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "illumos"
        | "solaris" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libqovery_redeploy.so.{sover}");
        }
        "macos" | "ios" => {
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libqovery_redeploy.{sover}.dylib"
            );
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}
