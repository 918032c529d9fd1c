//! The one typed configuration of the server: every setting is a flag and an environment
//! variable, and `gatehouse --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::models::about::Mode;
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: the control room of a model-delivery pipeline",
    long_about = "Gatehouse: the control room of a model-delivery pipeline.\n\n\
                  Every setting can be given as a flag or as the environment variable shown \
                  beside it; a flag wins over the variable."
)]
pub struct Config {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "GATEHOUSE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Which backend drives the pipeline: `local` (embedded engine, no AWS) or `aws`.
    #[arg(long, env = "GATEHOUSE_MODE", default_value = "local", value_parser = parse_mode)]
    pub mode: Mode,

    /// Folder for Gatehouse's own state (created if missing).
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Folder with the built site (the `pkg/` bundle and public assets) that cargo-leptos
    /// writes.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Log format: `human` for a terminal, `json` for a log collector.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Which log lines to keep, as a tracing filter (`info`, `server=debug,info`, …).
    #[arg(long, env = "GATEHOUSE_LOG", default_value = "info")]
    pub log_filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    match value {
        "local" => Ok(Mode::Local),
        "aws" => Ok(Mode::Aws),
        other => Err(format!("unknown mode `{other}`: use `local` or `aws`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("gatehouse").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_local_on_loopback_port_3000() {
        let config = parse(&[]).expect("defaults parse");
        assert_eq!(config.bind, "127.0.0.1:3000".parse().expect("address"));
        assert_eq!(config.mode, Mode::Local);
        assert_eq!(config.log_format, LogFormat::Human);
    }

    #[test]
    fn flags_override_defaults() {
        let config = parse(&[
            "--mode",
            "aws",
            "--bind",
            "0.0.0.0:8080",
            "--log-format",
            "json",
        ])
        .expect("flags parse");
        assert_eq!(config.mode, Mode::Aws);
        assert_eq!(config.bind.port(), 8080);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn an_unknown_mode_is_refused_with_the_choices() {
        let error = parse(&["--mode", "cloud"]).expect_err("must refuse");
        let message = error.to_string();
        assert!(message.contains("unknown mode `cloud`"), "{message}");
        assert!(message.contains("`local` or `aws`"), "{message}");
    }

    #[test]
    fn help_lists_every_setting_with_its_variable() {
        let help = parse(&["--help"]).expect_err("help exits").to_string();
        for needle in [
            "--bind",
            "GATEHOUSE_BIND",
            "--mode",
            "GATEHOUSE_MODE",
            "--data-dir",
            "GATEHOUSE_DATA_DIR",
            "--site-root",
            "LEPTOS_SITE_ROOT",
            "--log-format",
            "GATEHOUSE_LOG_FORMAT",
            "--log-filter",
            "GATEHOUSE_LOG",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
        }
    }
}
