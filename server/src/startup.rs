//! Building the application from its configuration, and running it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::audit::AuditLog;
use app::ballots::Ballots;
use app::control_plane::ControlPlane;
use app::models::about::Mode;
use app::models::identity::Role;
use app::models::pipeline::Timestamp;
use app::rate_limit::RateLimiter;
use app::state::{BuildInfo, ServerContext, UserDirectory};
use app::{shell, App};
use axum::extract::FromRef;
use axum::http::{header, HeaderValue, Request};
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use engine::EngineConfig;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::access::{gate, handlers, resolve, Access};
use crate::audit::export;
use crate::audit::sqlite::SqliteAuditLog;
use crate::auth::{
    jwks_handler, AuthError, LocalProvider, LocalSigner, LocalTokenLifetimes, Redacted,
};
use crate::cli::database_path;
use crate::config::Config;
use crate::db::{Database, DbError};
use crate::guard::csrf::refuse_cross_site;
use crate::guard::throttle::{SignInThrottle, ThrottlePolicy};
use crate::live::{spawn_watcher, LiveFeed};
use crate::pipeline::demo::seed_demo_run;
use crate::pipeline::local::LocalControlPlane;
use crate::routes::health::{healthz, readyz, Readiness};
use crate::security_headers::{content_security_policy, HSTS};
use crate::sessions::sqlite_store::SqliteSessionStore;
use crate::sessions::SessionBackend;
use crate::shared_state::sqlite::{SqliteBallots, SqliteFailureCounts};
use crate::users::{random_password, LocalUsers, UserError};

#[cfg(feature = "aws")]
mod aws;

/// The name cargo-leptos gives the bundle (`[[workspace.metadata.leptos]] name`).
const OUTPUT_NAME: &str = "gatehouse";
const SITE_PKG_DIR: &str = "pkg";

/// The issuer and app-client id written into local mode's tokens.
pub const LOCAL_ISSUER: &str = "urn:gatehouse:local";
pub const LOCAL_CLIENT_ID: &str = "gatehouse-dashboard";
/// The name of the administrator created on a first start with no users.
pub const INITIAL_ADMIN: &str = "admin";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// Shared by every axum handler.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub readiness: Arc<Readiness>,
    pub access: Arc<Access>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Access> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.access)
    }
}

/// The administrator created on the first start, whose password must be shown once.
pub struct InitialAdmin {
    pub username: String,
    pub password: Redacted<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] DbError),
    #[error("cannot set up local sign-in: {0}")]
    Signing(#[from] AuthError),
    #[error("cannot create the first administrator: {0}")]
    Users(#[from] UserError),
    #[error("{0}")]
    NotConfigured(String),
    #[error("cannot start the pipeline: {0}")]
    Pipeline(String),
    /// Only a build without the `aws` feature has it, so its sentence tells the two builds
    /// apart (infra/dashboard/stage.sh looks for it).
    #[cfg(not(feature = "aws"))]
    #[error(
        "this gatehouse was built for local mode only, without the AWS SDK; build it with \
         the `aws` feature for aws mode (cargo leptos build --release --bin-features aws)"
    )]
    AwsNotBuiltIn,
}

/// The AWS SDK's configuration (region, credentials, endpoints) the tests hand to
/// [`Application::build_with`]. A build without the `aws` feature cannot be given one: the
/// type has no values.
#[cfg(feature = "aws")]
pub type AwsSdkConfig = aws_config::SdkConfig;
#[cfg(not(feature = "aws"))]
pub type AwsSdkConfig = std::convert::Infallible;

#[cfg(feature = "aws")]
use aws::aws_mode;
#[cfg(feature = "aws")]
pub use aws::{aws_audit_log, aws_timeouts};

/// A build without the `aws` feature has local mode only.
#[cfg(not(feature = "aws"))]
async fn aws_mode(
    _config: &Config,
    _aws: Option<AwsSdkConfig>,
) -> Result<(Identity, Arc<dyn ControlPlane>), StartupError> {
    Err(StartupError::AwsNotBuiltIn)
}

/// What the identity side of the server is made of, per mode.
struct Identity {
    access: Arc<Access>,
    /// The audit log the access layer and the server functions append to.
    audit: Arc<dyn AuditLog>,
    signer: Option<Arc<LocalSigner>>,
    users: Option<Arc<dyn UserDirectory>>,
    initial_admin: Option<InitialAdmin>,
    sessions: SessionBackend,
    /// The approval votes, kept beside the sessions where every instance sees them.
    ballots: Arc<dyn Ballots>,
}

/// A bound, fully built server that has not started answering yet.
pub struct Application {
    listener: TcpListener,
    router: Router,
    initial_admin: Option<InitialAdmin>,
}

impl Application {
    /// Builds the server; in aws mode the AWS settings come from the environment (region,
    /// credentials, `AWS_ENDPOINT_URL_*`), as the SDK reads them.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with(config, None).await
    }

    /// Builds the server with the AWS SDK configuration given (tests point it at moto).
    pub async fn build_with(
        config: Config,
        aws: Option<AwsSdkConfig>,
    ) -> Result<Self, StartupError> {
        crate::memory::set_up_memory_for_the_c_libraries();
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .map_err(|source| StartupError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| StartupError::Bind {
                    address: config.bind,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;
        let (mut identity, pipeline) = match config.mode {
            Mode::Local => (
                local_identity(&config).await?,
                local_pipeline(&config, local_addr).await?,
            ),
            Mode::Aws => aws_mode(&config, aws).await?,
        };
        let session_layer = session_layer(&config, local_addr, identity.sessions.clone());
        let initial_admin = identity.initial_admin.take();
        let router = router(&config, local_addr, identity, pipeline, session_layer);
        Ok(Self {
            listener,
            router,
            initial_admin,
        })
    }

    /// The first administrator's name and password, once: only on the first start of a local
    /// server with no users, for the caller to show on the terminal.
    pub fn take_initial_admin(&mut self) -> Option<InitialAdmin> {
        self.initial_admin.take()
    }

    /// The address actually bound (differs from the configured one when it asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// Local mode's pipeline: the embedded engine on the data folder's database, the pipeline
/// deployed on it, and on a first start the demo run.
async fn local_pipeline(
    config: &Config,
    local_addr: SocketAddr,
) -> Result<Arc<dyn ControlPlane>, StartupError> {
    let mut engine_config = EngineConfig::new(
        Some(database_path(&config.data_dir)),
        config.data_dir.join("objects"),
    );
    engine_config.dashboard_url = format!("http://{local_addr}");
    engine_config.endpoint_delay = Duration::from_secs(config.pipeline.local_deploy_seconds);
    let pipeline = LocalControlPlane::start(engine_config)
        .await
        .map_err(|e| StartupError::Pipeline(e.to_string()))?;
    if config.pipeline.demo_run {
        let now = Timestamp::now();
        if let Some(run) = seed_demo_run(&pipeline, now)
            .await
            .map_err(|e| StartupError::Pipeline(format!("the demo run did not start: {e}")))?
        {
            tracing::info!(execution = %run.name, "started the demo run");
        }
    }
    Ok(Arc::new(pipeline))
}

async fn local_identity(config: &Config) -> Result<Identity, StartupError> {
    let db = Database::open(&database_path(&config.data_dir))?;
    let signer = Arc::new(LocalSigner::load_or_create(
        &config.data_dir,
        LOCAL_ISSUER,
        LOCAL_CLIENT_ID,
    )?);
    let users = LocalUsers::new(db.clone());
    let initial_admin = create_initial_admin(&users).await?;
    let provider = LocalProvider::new(
        db.clone(),
        Arc::clone(&signer),
        LocalTokenLifetimes::default(),
    );
    let audit: Arc<dyn AuditLog> = Arc::new(SqliteAuditLog::new(db.clone()));
    let failures = Arc::new(SqliteFailureCounts::new(db.clone()));
    let ballots = Arc::new(SqliteBallots::new(db.clone()));
    let store = SqliteSessionStore::new(db);
    sweep_expired_sessions(store.clone());
    let access = Access {
        provider: Arc::new(provider),
        audit: Arc::clone(&audit),
        verifier: signer.verifier(),
        throttle: SignInThrottle::new(ThrottlePolicy::default(), failures),
        policy: config.sessions.policy(),
    };
    Ok(Identity {
        access: Arc::new(access),
        audit,
        signer: Some(signer),
        users: Some(Arc::new(users)),
        initial_admin,
        sessions: SessionBackend::Sqlite(store),
        ballots,
    })
}

/// On a first start with no users, an `admin` with a random password.
async fn create_initial_admin(users: &LocalUsers) -> Result<Option<InitialAdmin>, StartupError> {
    if !users.is_empty().await? {
        return Ok(None);
    }
    let password = random_password();
    users
        .add(
            INITIAL_ADMIN,
            &password,
            [Role::Admin].into_iter().collect(),
        )
        .await?;
    tracing::info!(user = INITIAL_ADMIN, "created the first administrator");
    Ok(Some(InitialAdmin {
        username: INITIAL_ADMIN.to_string(),
        password: Redacted::new(password),
    }))
}

/// Deletes expired SQLite sessions every ten minutes (DynamoDB's TTL does this in aws mode).
fn sweep_expired_sessions(store: SqliteSessionStore) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "cannot delete expired sessions");
            }
        }
    });
}

/// HttpOnly, SameSite=Lax, Secure unless on plain-http loopback, ending after the idle
/// timeout.
fn session_layer(
    config: &Config,
    local_addr: SocketAddr,
    store: SessionBackend,
) -> SessionManagerLayer<SessionBackend> {
    let idle = config.sessions.policy().idle;
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.sessions.secure_cookie(local_addr))
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(idle.as_secs()).unwrap_or(i64::MAX),
        )))
}

fn router(
    config: &Config,
    local_addr: SocketAddr,
    identity: Identity,
    pipeline: Arc<dyn ControlPlane>,
    session_layer: SessionManagerLayer<SessionBackend>,
) -> Router {
    let site_root = config.site_root.display().to_string();
    let trusted_proxies = config.trusted_proxies;
    let https = config.sessions.secure_cookie(local_addr);
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root)
        .site_pkg_dir(SITE_PKG_DIR)
        .site_addr(local_addr)
        .env(leptos::config::Env::PROD)
        .build();
    let readiness = Readiness::new(
        config.data_dir.clone(),
        &config.site_root,
        SITE_PKG_DIR,
        OUTPUT_NAME,
    );
    let state = AppState {
        leptos_options: leptos_options.clone(),
        readiness: Arc::new(readiness),
        access: Arc::clone(&identity.access),
    };
    let live = LiveFeed::new();
    let server_context = ServerContext {
        mode: config.mode,
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            git_commit: env!("GATEHOUSE_GIT_COMMIT"),
        },
        started: Instant::now(),
        started_at: now_rfc3339(),
        users: identity.users.clone(),
        pipeline,
        audit: Arc::clone(&identity.audit),
        approval_policy: config.pipeline.approval_policy(),
        ballots: Arc::clone(&identity.ballots),
        decision_locks: Arc::default(),
        evidence: Arc::default(),
        live: Arc::clone(&live) as Arc<dyn app::state::LiveNews>,
        invoke_role: config.inference.invoke_role,
        invoke_limiter: Arc::new(RateLimiter::new(config.inference.rate_limit())),
    };
    spawn_watcher(
        &live,
        &server_context.pipeline,
        std::time::Duration::from_millis(config.pipeline.live_poll_ms),
    );
    let inference_context = server_context.clone();
    let provide_server_context = move || provide_context(server_context.clone());

    let routes = route_list();
    let mut router = Router::new();
    if let Some(signer) = identity.signer {
        router = router.route(
            "/.well-known/jwks.json",
            get(jwks_handler).with_state(signer),
        );
    }
    router
        // The dashboard's front door; the app's own links point at /executions directly.
        .route("/", get(|| async { Redirect::to("/executions") }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/auth/signin", post(handlers::sign_in))
        .route("/auth/new-password", post(handlers::new_password))
        .route("/auth/signout", post(handlers::sign_out))
        .route("/auth/token", post(handlers::token))
        .route("/events", get(crate::live::events).with_state(live))
        .route(
            "/playground",
            post({
                let (context, options) = (inference_context.clone(), leptos_options.clone());
                move |request| {
                    crate::playground::try_request(context.clone(), options.clone(), request)
                }
            }),
        )
        .nest("/v1", crate::inference::routes(inference_context))
        .route(
            "/audit/export.csv",
            get(export::csv).with_state(Arc::clone(&identity.audit)),
        )
        .route(
            "/audit/export.json",
            get(export::json).with_state(Arc::clone(&identity.audit)),
        )
        .leptos_routes_with_context(&state, routes, provide_server_context.clone(), {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_server_context, shell))
        .with_state(state)
        // Innermost first: the page gate needs the caller, the caller needs the session, and
        // a cross-site request is refused before anything reads or writes a session.
        .layer(middleware::from_fn(gate::send_anonymous_to_sign_in))
        .layer(middleware::from_fn_with_state(
            identity.access,
            resolve::resolve_caller,
        ))
        .layer(session_layer)
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(middleware::from_fn(move |request, next| {
            crate::access::client::find_client_address(trusted_proxies, request, next)
        }))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    content_security_policy(&leptos_options),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::STRICT_TRANSPORT_SECURITY,
                    // Without HTTPS (a loopback address, or cookies said to be plain) the
                    // header would promise what the site does not keep: no value, no header.
                    https.then(|| HeaderValue::from_static(HSTS)),
                ))
                .layer(CompressionLayer::new()),
        )
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a resource first polled by another server's render while the
/// flag is up never loads: that request hangs for ever (leptos-rs/leptos#4773). A deployed
/// process builds one server, but the tests build dozens side by side, and did hang.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_string())
}
