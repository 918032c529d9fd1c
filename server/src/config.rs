//! The one typed configuration of the server: every setting is a flag and an environment
//! variable, and `gatehouse --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::models::about::Mode;
use app::models::approvals::ApprovalPolicy;
use app::models::identity::Role;
use app::rate_limit::RateLimit;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::access::SessionPolicy;
#[cfg(feature = "aws")]
use crate::auth::cognito::CognitoSettings;
use crate::auth::Redacted;
use crate::cli::UsersCommand;

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

    /// How many reverse proxies in front of Gatehouse append to `X-Forwarded-For` (a load
    /// balancer: 1; the Lambda Web Adapter behind a function URL: 1). The client's address
    /// for the audit log and the sign-in throttle is then the one the outermost of them saw.
    /// 0 (the default) trusts no header and takes the connection's address.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", default_value_t = 0)]
    pub trusted_proxies: u8,

    #[command(flatten)]
    pub sessions: SessionSettings,

    #[command(flatten)]
    pub pipeline: PipelineSettings,

    #[command(flatten)]
    pub inference: InferenceSettings,

    #[command(flatten)]
    pub aws: AwsSettings,

    /// Run a maintenance command instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Manage local mode's users (in the data folder's database).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain: exit 0 when every record is as appended, non-zero naming the
    /// first record that was changed, removed or moved. Reads the data folder's database in
    /// local mode, the audit table in aws mode.
    Verify,
}

/// Sessions and the sign-in cookie.
#[derive(Debug, Clone, Args)]
pub struct SessionSettings {
    /// Minutes a session may sit unused before it ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 60))]
    pub session_idle_minutes: u64,

    /// Hours after sign-in when a session ends however busy it is.
    #[arg(long, env = "GATEHOUSE_SESSION_MAX_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u64).range(1..=30 * 24))]
    pub session_max_hours: u64,

    /// Seconds between re-checks that a signed-in user still exists, is enabled and has the
    /// same roles (0: on every request).
    #[arg(long, env = "GATEHOUSE_STANDING_CHECK_SECONDS", default_value_t = 0)]
    pub standing_check_seconds: u64,

    /// Seconds before a session's access token expires when it is refreshed (with the
    /// refresh token, server-side).
    #[arg(long, env = "GATEHOUSE_TOKEN_REFRESH_SECONDS", default_value_t = 300)]
    pub token_refresh_seconds: u64,

    /// Whether the session cookie carries `Secure`: `auto` sets it unless Gatehouse listens
    /// on a loopback address over plain HTTP.
    #[arg(long, env = "GATEHOUSE_COOKIE_SECURE", value_enum, default_value_t = CookieSecure::Auto)]
    pub cookie_secure: CookieSecure,
}

impl SessionSettings {
    pub fn policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle: Duration::from_secs(self.session_idle_minutes * 60),
            absolute: Duration::from_secs(self.session_max_hours * 3600),
            standing_check: Duration::from_secs(self.standing_check_seconds),
            refresh_before: Duration::from_secs(self.token_refresh_seconds),
        }
    }

    /// Whether the cookie gets `Secure` when serving on `bind`.
    pub fn secure_cookie(&self, bind: SocketAddr) -> bool {
        match self.cookie_secure {
            CookieSecure::Always => true,
            CookieSecure::Never => false,
            CookieSecure::Auto => !bind.ip().is_loopback(),
        }
    }
}

/// The pipeline the dashboard drives.
#[derive(Debug, Clone, Args)]
pub struct PipelineSettings {
    /// Local mode: on a first start (no executions yet), start one demo run on the bundled
    /// iris data, so the dashboard has a real run waiting for approval within seconds.
    #[arg(long, env = "GATEHOUSE_DEMO_RUN", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_run: bool,

    /// Local mode: seconds a local endpoint takes to be created or updated (SageMaker takes
    /// minutes; a short delay keeps a demo quick).
    #[arg(long, env = "GATEHOUSE_LOCAL_DEPLOY_SECONDS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub local_deploy_seconds: u64,

    /// aws mode: the ARN of the pipeline's Step Functions state machine.
    #[arg(long, env = "GATEHOUSE_STATE_MACHINE_ARN")]
    pub state_machine_arn: Option<String>,

    /// Distinct approvers whose approval sends an approval's decision (any one rejection
    /// rejects).
    #[arg(long, env = "GATEHOUSE_APPROVAL_QUORUM", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub approval_quorum: u32,

    /// Let the commit's author (the execution input's optional `author`) approve it.
    #[arg(long, env = "GATEHOUSE_ALLOW_SELF_APPROVAL")]
    pub allow_self_approval: bool,

    /// Milliseconds between looks at the pipeline for live updates (only while a page
    /// listens on /events).
    #[arg(long, env = "GATEHOUSE_LIVE_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub live_poll_ms: u64,
}

impl PipelineSettings {
    pub fn approval_policy(&self) -> ApprovalPolicy {
        ApprovalPolicy {
            quorum: self.approval_quorum,
            no_self_approval: !self.allow_self_approval,
        }
    }
}

/// aws mode: the Cognito user pool users sign in with, and the DynamoDB session table. The
/// Invoking the pipeline's endpoints (the compatible API and the playground).
#[derive(Debug, Clone, Args)]
pub struct InferenceSettings {
    /// The least role that may invoke pipeline endpoints: `viewer`, `approver`, `operator`
    /// or `admin` (admin holds every role; approver and operator each include viewer).
    #[arg(long, env = "GATEHOUSE_INVOKE_ROLE", default_value = "viewer", value_parser = parse_role)]
    pub invoke_role: Role,

    /// Invocations each user may make per minute, on average (per instance).
    #[arg(long, env = "GATEHOUSE_INVOKE_PER_MINUTE", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub invoke_per_minute: u32,

    /// Invocations a user may make at once before the per-minute rate applies.
    #[arg(long, env = "GATEHOUSE_INVOKE_BURST", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub invoke_burst: u32,
}

impl InferenceSettings {
    pub fn rate_limit(&self) -> RateLimit {
        RateLimit {
            per_minute: self.invoke_per_minute,
            burst: self.invoke_burst,
        }
    }
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::from_name(value).ok_or_else(|| {
        format!("unknown role `{value}`: use `viewer`, `approver`, `operator` or `admin`")
    })
}

/// AWS region, credentials and endpoints come from the standard AWS settings (`AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL_*`, the Lambda role, …).
#[derive(Debug, Clone, Args)]
pub struct AwsSettings {
    /// The Cognito user pool id (`{region}_{id}`); required in aws mode.
    #[arg(long, env = "GATEHOUSE_COGNITO_USER_POOL_ID")]
    pub cognito_user_pool_id: Option<String>,

    /// The app client id; the client must allow USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.
    #[arg(long, env = "GATEHOUSE_COGNITO_CLIENT_ID")]
    pub cognito_client_id: Option<String>,

    /// The app client's secret, when it has one.
    #[arg(long, env = "GATEHOUSE_COGNITO_CLIENT_SECRET", hide_env_values = true,
          value_parser = parse_secret)]
    pub cognito_client_secret: Option<Redacted<String>>,

    /// The tokens' expected `iss` (default: https://cognito-idp.{region}.amazonaws.com/{pool}).
    #[arg(long, env = "GATEHOUSE_COGNITO_ISSUER")]
    pub cognito_issuer: Option<String>,

    /// Where the pool's signing keys are published, when not at the issuer (test servers
    /// publish them elsewhere than the `iss` they write). Default: {issuer}/.well-known/jwks.json.
    #[arg(long, env = "GATEHOUSE_COGNITO_JWKS_URL")]
    pub cognito_jwks_url: Option<String>,

    /// The DynamoDB table for sessions (partition key `id`, TTL attribute `expires_at`).
    #[arg(
        long,
        env = "GATEHOUSE_SESSION_TABLE",
        default_value = "gatehouse-sessions"
    )]
    pub session_table: String,

    /// Create the session table if it is missing (development and tests; production tables
    /// come from the SAM template).
    #[arg(long, env = "GATEHOUSE_CREATE_SESSION_TABLE")]
    pub create_session_table: bool,

    /// The DynamoDB table of the audit log (partition key `chain` (S), sort key `seq` (N)).
    #[arg(long, env = "GATEHOUSE_AUDIT_TABLE", default_value = "gatehouse-audit")]
    pub audit_table: String,

    /// Create the audit table if it is missing (development and tests).
    #[arg(long, env = "GATEHOUSE_CREATE_AUDIT_TABLE")]
    pub create_audit_table: bool,

    /// The DynamoDB table where instances agree on approval votes and failed sign-ins
    /// (partition key `id` (S), TTL attribute `expires_at`).
    #[arg(
        long,
        env = "GATEHOUSE_COORDINATION_TABLE",
        default_value = "gatehouse-coordination"
    )]
    pub coordination_table: String,

    /// Create the coordination table if it is missing (development and tests).
    #[arg(long, env = "GATEHOUSE_CREATE_COORDINATION_TABLE")]
    pub create_coordination_table: bool,
}

#[cfg(feature = "aws")]
impl AwsSettings {
    /// The Cognito settings, or what is missing, in words. `region` is the SDK's.
    pub fn cognito(&self, region: Option<&str>) -> Result<CognitoSettings, String> {
        let (Some(pool), Some(client)) = (&self.cognito_user_pool_id, &self.cognito_client_id)
        else {
            return Err("aws mode signs users in with a Cognito user pool: set \
                        GATEHOUSE_COGNITO_USER_POOL_ID and GATEHOUSE_COGNITO_CLIENT_ID \
                        (or --cognito-user-pool-id and --cognito-client-id)"
                .into());
        };
        // The pool id starts with its region, so the region need not be set twice.
        let region = region
            .map(str::to_string)
            .or_else(|| pool.split_once('_').map(|(region, _)| region.to_string()))
            .ok_or("cannot tell the Cognito pool's region: set AWS_REGION")?;
        Ok(CognitoSettings {
            region,
            user_pool_id: pool.clone(),
            client_id: client.clone(),
            client_secret: self.cognito_client_secret.clone(),
        })
    }
}

fn parse_secret(value: &str) -> Result<Redacted<String>, String> {
    Ok(Redacted::new(value.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CookieSecure {
    Auto,
    Always,
    Never,
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
    fn the_cookie_is_secure_except_on_loopback_unless_told() {
        let config = parse(&[]).expect("defaults parse");
        assert!(!config
            .sessions
            .secure_cookie("127.0.0.1:3000".parse().expect("address")));
        assert!(config
            .sessions
            .secure_cookie("0.0.0.0:3000".parse().expect("address")));
        let config = parse(&["--cookie-secure", "always"]).expect("parse");
        assert!(config
            .sessions
            .secure_cookie("127.0.0.1:3000".parse().expect("address")));
    }

    #[test]
    fn the_client_secret_never_prints() {
        let config = parse(&["--cognito-client-secret", "s3cr3t-value"]).expect("parse");
        assert!(!format!("{config:?}").contains("s3cr3t-value"));
    }

    #[cfg(feature = "aws")]
    #[test]
    fn cognito_settings_need_pool_and_client_and_take_the_region_from_the_pool() {
        let config = parse(&[]).expect("parse");
        let error = config.aws.cognito(None).expect_err("missing");
        assert!(error.contains("GATEHOUSE_COGNITO_USER_POOL_ID"), "{error}");
        let config = parse(&[
            "--cognito-user-pool-id",
            "eu-west-1_AbC",
            "--cognito-client-id",
            "client",
        ])
        .expect("parse");
        let settings = config.aws.cognito(None).expect("settings");
        assert_eq!(settings.region, "eu-west-1");
        assert_eq!(
            settings.issuer(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
        );
    }

    #[test]
    fn a_zero_idle_timeout_is_refused() {
        let error = parse(&["--session-idle-minutes", "0"]).expect_err("must refuse");
        assert!(
            error.to_string().contains("session-idle-minutes"),
            "{error}"
        );
    }

    #[test]
    fn users_commands_parse() {
        let config = parse(&[
            "users", "add", "ada", "--role", "approver", "--role", "viewer",
        ])
        .expect("parse");
        assert!(matches!(
            config.command,
            Some(Command::Users(UsersCommand::Add { .. }))
        ));
        let error = parse(&["users", "add", "ada", "--role", "root"]).expect_err("bad role");
        assert!(error.to_string().contains("root"), "{error}");
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
            "--session-idle-minutes",
            "GATEHOUSE_SESSION_IDLE_MINUTES",
            "--session-max-hours",
            "GATEHOUSE_SESSION_MAX_HOURS",
            "--standing-check-seconds",
            "GATEHOUSE_STANDING_CHECK_SECONDS",
            "--cookie-secure",
            "GATEHOUSE_COOKIE_SECURE",
            "--token-refresh-seconds",
            "GATEHOUSE_TOKEN_REFRESH_SECONDS",
            "--cognito-user-pool-id",
            "GATEHOUSE_COGNITO_USER_POOL_ID",
            "--cognito-client-id",
            "GATEHOUSE_COGNITO_CLIENT_ID",
            "--cognito-client-secret",
            "GATEHOUSE_COGNITO_CLIENT_SECRET",
            "--cognito-issuer",
            "GATEHOUSE_COGNITO_ISSUER",
            "--cognito-jwks-url",
            "GATEHOUSE_COGNITO_JWKS_URL",
            "--session-table",
            "GATEHOUSE_SESSION_TABLE",
            "--create-session-table",
            "GATEHOUSE_CREATE_SESSION_TABLE",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
        }
    }
}
