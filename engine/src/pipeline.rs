//! The seed pipeline, ready for local mode: its definition, the substitutions that point
//! it at the built-in functions and the local bucket, and the iris sample data it trains
//! on. The files are compiled in, so a server binary needs nothing beside it.

use std::collections::BTreeMap;
use std::path::Path;

/// `infra/statemachine/mlops.asl.json`.
pub const MLOPS_DEFINITION: &str = include_str!("../../infra/statemachine/mlops.asl.json");
/// `infra/statemachine/local-substitutions.json`.
pub const LOCAL_SUBSTITUTIONS: &str =
    include_str!("../../infra/statemachine/local-substitutions.json");
/// The bucket the local substitutions name.
pub const LOCAL_BUCKET: &str = "ml-models";

const IRIS_FILES: [(&str, &str); 3] = [
    ("iris.csv", include_str!("../data/iris/iris.csv")),
    ("train.csv", include_str!("../data/iris/train.csv")),
    ("test.csv", include_str!("../data/iris/test.csv")),
];

/// The substitutions of local mode, as a map.
pub fn local_substitutions() -> Result<BTreeMap<String, String>, serde_json::Error> {
    serde_json::from_str(LOCAL_SUBSTITUTIONS)
}

/// Writes the iris files where the pipelines read them — `s3://ml-models/iris/*.csv` for
/// mlops.asl.json and `s3://ml-models/iris.csv` for the article's definition — unless a
/// file is already there (an operator may have replaced the data).
pub fn install_sample_data(data_dir: &Path) -> std::io::Result<()> {
    let bucket = data_dir.join(LOCAL_BUCKET);
    std::fs::create_dir_all(bucket.join("iris"))?;
    let mut targets: Vec<(std::path::PathBuf, &str)> = IRIS_FILES
        .iter()
        .map(|(name, text)| (bucket.join("iris").join(name), *text))
        .collect();
    targets.push((bucket.join("iris.csv"), IRIS_FILES[0].1));
    for (path, text) in targets {
        if !path.exists() {
            std::fs::write(path, text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_data_is_installed_once_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        install_sample_data(dir.path()).unwrap();
        let train = dir.path().join("ml-models/iris/train.csv");
        assert_eq!(
            std::fs::read_to_string(&train).unwrap().lines().count(),
            120
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ml-models/iris.csv"))
                .unwrap()
                .lines()
                .count(),
            150
        );
        std::fs::write(&train, "mine\n").unwrap();
        install_sample_data(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&train).unwrap(), "mine\n");
        assert_eq!(
            local_substitutions().unwrap()["S3ModelBucket"],
            LOCAL_BUCKET
        );
    }
}
