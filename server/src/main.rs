// A bad flag, setting or file gets a message and an exit code, never a panic: `unwrap`,
// `expect` and indexing are denied here (clippy.toml lets tests keep them).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::ExitCode;

use app::audit::AuditLog;
use app::models::about::Mode;
use clap::Parser;
use server::audit::chain::VerifyError;
use server::config::{AuditCommand, Command, Config};
use server::startup::Application;
use server::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(error) = telemetry::init(config.log_format, &config.log_filter, std::io::stdout) {
        eprintln!("gatehouse: {error}");
        return ExitCode::from(2);
    }
    if let Some(Command::Users(command)) = config.command.clone() {
        let stdin = std::io::stdin();
        let mut stdout = std::io::stdout();
        return match server::cli::run_users(
            &config.data_dir,
            command,
            &mut stdin.lock(),
            &mut stdout,
        )
        .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("gatehouse: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Audit(AuditCommand::Verify)) = config.command {
        return verify_audit_log(&config).await;
    }
    tracing::info!(mode = %config.mode, data_dir = %config.data_dir.display(), "starting");

    let mut application = match Application::build(config).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    if let Some(admin) = application.take_initial_admin() {
        // Straight to the terminal, once; never through the log.
        eprintln!(
            "\nNo users yet, so Gatehouse created one.\n  username: {}\n  password: {}\n\
             Sign in and keep this password safe; it is not shown again. Add users with \
             `gatehouse users add NAME --role ROLE`.\n",
            admin.username,
            admin.password.expose()
        );
    }
    match application.local_addr() {
        Ok(address) => tracing::info!("listening on http://{address}"),
        Err(error) => tracing::warn!(%error, "listening, but the bound address is unknown"),
    }
    match application.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// `gatehouse audit verify`: 0 when the chain is intact, 1 naming the first bad record, 2
/// when the log cannot be read.
async fn verify_audit_log(config: &Config) -> ExitCode {
    let log: Box<dyn AuditLog> = match config.mode {
        Mode::Local => {
            let path = server::cli::database_path(&config.data_dir);
            if !path.exists() {
                eprintln!(
                    "gatehouse: no database at {}: nothing to verify",
                    path.display()
                );
                return ExitCode::from(2);
            }
            match server::db::Database::open(&path) {
                Ok(db) => Box::new(server::audit::sqlite::SqliteAuditLog::new(db)),
                Err(error) => {
                    eprintln!("gatehouse: cannot open {}: {error}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
        #[cfg(feature = "aws")]
        Mode::Aws => Box::new(server::startup::aws_audit_log(config).await),
        #[cfg(not(feature = "aws"))]
        Mode::Aws => {
            eprintln!(
                "gatehouse: {}",
                server::startup::StartupError::AwsNotBuiltIn
            );
            return ExitCode::from(2);
        }
    };
    match server::audit::run_verify(log.as_ref(), &mut std::io::stdout()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(VerifyError::Broken(at)) => {
            eprintln!(
                "gatehouse: the audit log is NOT intact at record {}: {at}",
                at.record()
            );
            ExitCode::FAILURE
        }
        Err(VerifyError::Store(error)) => {
            eprintln!("gatehouse: {error}");
            ExitCode::from(2)
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what a container runtime sends to stop us).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
