//! `qovery-redeploy`: everything is in the library (`run`), shared with the Python package.

fn main() {
    // The binary owns the process, so it may take Ctrl-C: the first one cancels the wait
    // (exit 130), a second one kills as usual. `run` itself never touches signals.
    let cancel = qovery_redeploy_cli::ctrl_c_cancel();
    std::process::exit(qovery_redeploy_cli::run(
        std::env::args_os().collect(),
        cancel,
    ));
}
