use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::about::AboutInfo;

/// Mode, version, build commit and uptime of the server answering.
#[server(endpoint = "about")]
pub async fn get_about() -> Result<AboutInfo, AppError> {
    let context = crate::state::server_context()?;
    Ok(AboutInfo {
        mode: context.mode,
        version: context.build.version.to_string(),
        git_commit: context.build.git_commit.to_string(),
        started_at: context.started_at,
        uptime_seconds: context.started.elapsed().as_secs(),
    })
}
