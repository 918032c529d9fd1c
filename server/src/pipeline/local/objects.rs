//! The local "S3" as the control plane reads it: files under the data dir, listed from their
//! metadata and read within a bound. These are blocking calls: the control plane runs them
//! off the async workers.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::UNIX_EPOCH;

use app::control_plane::PipelineError;
use app::models::pipeline::StoredObject;

/// Most objects one listing returns (as the AWS adapter).
const MAX_OBJECTS: usize = 100;

/// The files an `S3Prefix` data source selects, with their size, inode and modification time
/// (to the nanosecond), none of them opened.
pub(super) fn list_blocking(
    data_dir: &Path,
    uri: &str,
) -> Result<Vec<StoredObject>, PipelineError> {
    let files = engine::sagemaker::s3::files_under_prefix(data_dir, uri)
        .map_err(|e| PipelineError::NotFound(format!("No object found under {uri}: {e}")))?;
    if files.is_empty() {
        return Err(PipelineError::NotFound(format!(
            "No object found under {uri}."
        )));
    }
    let mut objects = Vec::with_capacity(files.len().min(MAX_OBJECTS));
    for path in files.into_iter().take(MAX_OBJECTS) {
        let metadata = std::fs::metadata(&path).map_err(|e| {
            tracing::error!(path = %path.display(), error = %e, "cannot read an object's metadata");
            PipelineError::Unavailable("An object could not be listed.".into())
        })?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()));
        objects.push(StoredObject {
            uri: uri_of(data_dir, &path),
            size: metadata.len(),
            version: Some(format!("{}:{}", metadata.dev(), metadata.ino())),
            modified,
        });
    }
    Ok(objects)
}

/// `s3://bucket/key` of a file under the data dir.
fn uri_of(data_dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(data_dir).unwrap_or(path);
    format!("s3://{}", relative.to_string_lossy())
}

/// The file behind `uri` if it holds at most `limit` bytes: its size is read first, and no
/// more than `limit + 1` bytes are ever read, should it grow in between.
pub(super) fn read_blocking(
    data_dir: &Path,
    uri: &str,
    limit: u64,
) -> Result<String, PipelineError> {
    let path = engine::sagemaker::s3::path_of(data_dir, uri)
        .map_err(|e| PipelineError::Invalid(e.to_string()))?;
    let unreadable = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            return PipelineError::NotFound(format!("The object {uri} is gone."));
        }
        tracing::error!(path = %path.display(), error = %e, "cannot read an object");
        PipelineError::Unavailable("An object could not be read.".into())
    };
    let file = std::fs::File::open(&path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limit {
        return Err(too_large(uri, Some(size), limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(uri, None, limit));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn too_large(uri: &str, size: Option<u64>, limit: u64) -> PipelineError {
    PipelineError::TooLarge(crate::pipeline::too_large_sentence(uri, size, limit))
}
