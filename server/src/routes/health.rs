//! `GET /healthz` (the process is alive) and `GET /readyz` (it can serve a user).

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use crate::startup::AppState;

#[derive(Debug, Serialize)]
pub struct Liveness {
    status: &'static str,
}

pub async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "alive" })
}

/// What `/readyz` checks, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Readiness {
    data_dir: PathBuf,
    /// Files a first visit downloads; without them pages render but never hydrate.
    site_assets: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct ReadinessReport {
    status: &'static str,
    checks: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    name: &'static str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

impl Readiness {
    pub fn new(data_dir: PathBuf, site_root: &Path, pkg_dir: &str, output_name: &str) -> Self {
        let pkg = site_root.join(pkg_dir);
        let site_assets = [
            format!("{output_name}.js"),
            format!("{output_name}.wasm"),
            format!("{output_name}.css"),
        ]
        .into_iter()
        .map(|file| pkg.join(file))
        .collect();
        Self {
            data_dir,
            site_assets,
        }
    }

    async fn run(&self) -> Vec<Check> {
        vec![
            self.data_dir_writable().await,
            self.site_assets_present().await,
        ]
    }

    async fn data_dir_writable(&self) -> Check {
        let probe = self.data_dir.join(".readyz-probe");
        let outcome = match tokio::fs::write(&probe, b"ok").await {
            Ok(()) => tokio::fs::remove_file(&probe).await,
            Err(error) => Err(error),
        };
        Check {
            name: "data_dir_writable",
            ok: outcome.is_ok(),
            problem: outcome
                .err()
                .map(|error| format!("cannot write in {}: {error}", self.data_dir.display())),
        }
    }

    async fn site_assets_present(&self) -> Check {
        let mut missing = Vec::new();
        for asset in &self.site_assets {
            if !tokio::fs::try_exists(asset).await.unwrap_or(false) {
                missing.push(asset.display().to_string());
            }
        }
        Check {
            name: "site_assets_present",
            ok: missing.is_empty(),
            problem: (!missing.is_empty()).then(|| {
                format!(
                    "missing {} (build the site with `cargo leptos build`)",
                    missing.join(", ")
                )
            }),
        }
    }
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<ReadinessReport>) {
    let checks = state.readiness.run().await;
    let ready = checks.iter().all(|check| check.ok);
    for check in checks.iter().filter(|check| !check.ok) {
        tracing::warn!(check = check.name, problem = ?check.problem, "not ready");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let report = ReadinessReport {
        status: if ready { "ready" } else { "not ready" },
        checks,
    };
    (status, Json(report))
}
