//! Local mode's first-start demo: one real run of the pipeline on the bundled iris data, so a
//! new user sees training, a batch transform and a run waiting for approval within seconds.

use app::control_plane::{ControlPlane, PipelineError};
use app::models::pipeline::{Commit, ExecutionQuery, ExecutionSummary, StartRequest, Timestamp};

/// The demo's stand-in commit SHA (hex, so the commit column reads it like a real one).
pub const DEMO_SHA: &str = "c0ffee00";
/// The demo's image: local mode's SageMaker trains its built-in classifier whatever the image.
pub const DEMO_IMAGE: &str = "localhost/gatehouse/iris-demo:c0ffee00";

/// Starts the demo run unless the pipeline has run before. Returns the run it started.
pub async fn seed_demo_run(
    pipeline: &dyn ControlPlane,
    now: Timestamp,
) -> Result<Option<ExecutionSummary>, PipelineError> {
    let first = pipeline
        .list_executions(&ExecutionQuery {
            max_results: 1,
            ..ExecutionQuery::default()
        })
        .await?;
    if !first.executions.is_empty() {
        return Ok(None);
    }
    let commit_id = Commit::build_id(DEMO_SHA, now);
    pipeline
        .start_execution(&StartRequest {
            name: commit_id.clone(),
            commit_id,
            image_uri: DEMO_IMAGE.into(),
        })
        .await
        .map(Some)
}
