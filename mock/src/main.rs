//! `qovery-mock`: a fake of the Qovery API "redeploy database" endpoints with
//! a control API for fault injection (see README.md). The server is the
//! library's (`qovery_mock::MockServer`); this is its command line and its
//! stdout protocol.

use std::io::Write;
use std::process::ExitCode;

use qovery_mock::cli::{parse_args, Args, Parsed};

fn run(a: Args) -> Result<(), String> {
    let stdin_eof = a.exit_on_stdin_eof.then(|| {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            // Reads until EOF (or an error): the parent closed the pipe or is gone.
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = tx.send(());
        });
        rx
    });
    let server = a.builder()?.start().map_err(|e| e.to_string())?;

    // Line 1: the base URL; with --tls, line 2: the CA file. Nothing else.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", server.url());
    if let Some(ca_file) = server.ca_file() {
        let _ = writeln!(out, "{}", ca_file.display());
    }
    let _ = out.flush();
    drop(out);

    match stdin_eof {
        Some(eof) => {
            let _ = eof.recv();
            // Stops the listeners and removes the temporary TLS directory, if any.
            drop(server);
            Ok(())
        }
        // Until killed: the server runs on the library's threads.
        None => loop {
            std::thread::park();
        },
    }
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Exit(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(a)) => match run(a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "qovery-mock: error: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "qovery-mock: error: {e}\n(see qovery-mock --help)"
            );
            ExitCode::from(2)
        }
    }
}
