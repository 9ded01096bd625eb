//! `leerpoort`: the Leerpoort server and its administration command.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use idp::cli::{self, Cli, Command};
use idp::config::{Config, LogFormat};

/// mimalloc instead of glibc's malloc: the server allocates many small, short-lived buffers
/// per request (JSON, headers, rows), where glibc spent a third of the time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEERPOORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("leerpoort: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve | Command::DemoServe => {
            init_tracing(config.log_format);
            let with_demo = matches!(cli.command, Command::DemoServe);
            let result = actix_web::rt::System::new().block_on(cli::run_server(config, with_demo));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("leerpoort: {}", one_line(&e));
                    ExitCode::FAILURE
                }
            }
        }
        command => match cli::run_command(config, cli.json, command) {
            Ok(out) => {
                // A closed pipe (`leerpoort ... | head`) is not an error worth a panic.
                let mut stdout = std::io::stdout().lock();
                let _ = if cli.json {
                    writeln!(stdout, "{}", out.json)
                } else if !out.text.is_empty() {
                    writeln!(stdout, "{}", out.text)
                } else {
                    Ok(())
                };
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("leerpoort: {}", one_line(&e));
                ExitCode::FAILURE
            }
        },
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}
