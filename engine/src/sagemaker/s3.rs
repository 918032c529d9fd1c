//! Local "S3": `s3://bucket/key` is the file `<data dir>/bucket/key`.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    #[error("'{0}' is not an s3://bucket/key URI")]
    NotAnS3Uri(String),
    #[error("'{0}' may not contain '..' or absolute components")]
    Escapes(String),
    #[error("no object matches the prefix '{0}'")]
    NothingFound(String),
    #[error("cannot read '{0}': {1}")]
    Io(String, String),
}

/// Maps an S3 URI onto a path under `data_dir`.
pub fn path_of(data_dir: &Path, uri: &str) -> Result<PathBuf, S3Error> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| S3Error::NotAnS3Uri(uri.to_string()))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(S3Error::NotAnS3Uri(uri.to_string()));
    }
    let relative = Path::new(bucket).join(key.trim_end_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(S3Error::Escapes(uri.to_string()));
    }
    Ok(data_dir.join(relative))
}

/// The files an `S3Prefix` data source selects: the object itself, everything under it
/// as a folder, or every sibling whose name starts with the prefix's last part.
pub fn files_under_prefix(data_dir: &Path, uri: &str) -> Result<Vec<PathBuf>, S3Error> {
    let path = path_of(data_dir, uri)?;
    let mut out = Vec::new();
    if path.is_file() {
        out.push(path);
    } else if path.is_dir() {
        collect_files(&path, &mut out).map_err(|e| S3Error::Io(uri.to_string(), e.to_string()))?;
    } else if let (Some(parent), Some(stem)) = (path.parent(), path.file_name()) {
        let stem = stem.to_string_lossy().to_string();
        if let Ok(entries) = std::fs::read_dir(parent) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&stem) {
                    let p = entry.path();
                    if p.is_dir() {
                        collect_files(&p, &mut out)
                            .map_err(|e| S3Error::Io(uri.to_string(), e.to_string()))?;
                    } else {
                        out.push(p);
                    }
                }
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(S3Error::NothingFound(uri.to_string()));
    }
    Ok(out)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            collect_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_map_under_the_data_dir_and_prefixes_match() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            path_of(dir.path(), "s3://b/a/x.csv").unwrap(),
            dir.path().join("b/a/x.csv")
        );
        assert!(matches!(
            path_of(dir.path(), "s3://b/../etc"),
            Err(S3Error::Escapes(_))
        ));
        assert!(matches!(
            path_of(dir.path(), "http://b/x"),
            Err(S3Error::NotAnS3Uri(_))
        ));
        std::fs::create_dir_all(dir.path().join("b/data")).unwrap();
        std::fs::write(dir.path().join("b/data/one.csv"), "x").unwrap();
        std::fs::write(dir.path().join("b/data/two.csv"), "y").unwrap();
        assert_eq!(
            files_under_prefix(dir.path(), "s3://b/data").unwrap().len(),
            2
        );
        assert_eq!(
            files_under_prefix(dir.path(), "s3://b/data/on")
                .unwrap()
                .len(),
            1
        );
        assert!(matches!(
            files_under_prefix(dir.path(), "s3://b/none"),
            Err(S3Error::NothingFound(_))
        ));
    }
}
