//! The `gatehouse-engine` binary: exit codes and output of validate and run.

use crate::common::repo_file;
use std::process::Command;

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse-engine"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().to_string()
}

#[test]
fn validate_accepts_the_pipeline_and_rejects_bad_definitions() {
    let mlops = repo_file("infra/statemachine/mlops.asl.json");
    let subs = repo_file("infra/statemachine/local-substitutions.json");
    let (code, out) = cli(&[
        "validate",
        mlops.to_str().unwrap(),
        "--substitutions",
        subs.to_str().unwrap(),
    ]);
    assert_eq!(
        (code, out.trim()),
        (0, r#"{"valid":true,"unresolvedSubstitutions":[]}"#)
    );
    let (code, out) = cli(&[
        "validate",
        repo_file("infra/statemachine/article.asl.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("CreateAndEmailLinkFnName"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
    );
    let (code, out) = cli(&["validate", &bad]);
    assert_eq!(code, 2);
    assert!(
        out.contains("States.A.Next: 'B' is not a state of this machine"),
        "{out}"
    );
}

#[test]
fn run_prints_the_output_or_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "def.json",
        r#"{"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Ok"}], "Default": "No"},
            "Ok": {"Type": "Pass", "Parameters": {"bucket": "${Bucket}", "n.$": "$.n"}, "End": true},
            "No": {"Type": "Fail", "Error": "NotPositive", "Cause": "n must be positive"}}}"#,
    );
    let subs = write(dir.path(), "subs.json", r#"{"Bucket": "b1"}"#);
    let data = dir.path().join("data");
    let good = write(dir.path(), "good.json", r#"{"n": 2}"#);
    let (code, out) = cli(&[
        "run",
        "--definition",
        &def,
        "--input",
        &good,
        "--substitutions",
        &subs,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!((code, out.trim()), (0, r#"{"bucket":"b1","n":2}"#));
    let negative = write(dir.path(), "neg.json", r#"{"n": -1}"#);
    let (code, out) = cli(&[
        "run",
        "--definition",
        &def,
        "--input",
        &negative,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        (code, out.trim()),
        (1, r#"{"error":"NotPositive","cause":"n must be positive"}"#)
    );
    let invalid = write(
        dir.path(),
        "invalid.json",
        r#"{"StartAt": "X", "States": {}}"#,
    );
    let (code, _) = cli(&[
        "run",
        "--definition",
        &invalid,
        "--input",
        &good,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
}
