//! Building the application from its configuration, and running it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use app::state::{BuildInfo, ServerContext};
use app::{shell, App};
use axum::extract::FromRef;
use axum::http::{header, HeaderValue, Request};
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::routes::health::{healthz, readyz, Readiness};

/// The name cargo-leptos gives the bundle (`[[workspace.metadata.leptos]] name`).
const OUTPUT_NAME: &str = "gatehouse";
const SITE_PKG_DIR: &str = "pkg";

/// Shared by every axum handler.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub readiness: Arc<Readiness>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
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
}

/// A bound, fully built server that has not started answering yet.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
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
        let router = router(&config, local_addr);
        Ok(Self { listener, router })
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

fn router(config: &Config, local_addr: SocketAddr) -> Router {
    let site_root = config.site_root.display().to_string();
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
    };
    let server_context = ServerContext {
        mode: config.mode,
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            git_commit: env!("GATEHOUSE_GIT_COMMIT"),
        },
        started: Instant::now(),
        started_at: now_rfc3339(),
    };
    let provide_server_context = move || provide_context(server_context.clone());

    let routes = generate_route_list(App);
    Router::new()
        // The dashboard's front door; the app's own links point at /executions directly.
        .route("/", get(|| async { Redirect::to("/executions") }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .leptos_routes_with_context(&state, routes, provide_server_context.clone(), {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_server_context, shell))
        .with_state(state)
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
                .layer(CompressionLayer::new()),
        )
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_string())
}
