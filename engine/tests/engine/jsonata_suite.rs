//! The JSONata reference implementation's test suite (vendored in `tests/jsonata-suite`,
//! MIT licence) run against `engine::jsonata`: every case must give the expected result,
//! undefined, or error code.

use engine::jsonata::{Bindings, Expression, Limits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn suite_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("tests/jsonata-suite")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Numbers compare by value (1 equals 1.0). serde_json's default parser, which reads the
/// expected results, may be one unit in the last place off (it trades exactness for speed
/// unless its `float_roundtrip` feature is on), so values within a few units are equal.
fn same_number(x: f64, y: f64) -> bool {
    x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
}

/// JavaScript's deep equality on JSON.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => same_number(x, y),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The same members in any order (cases marked `unordered`).
fn same_unordered(a: &Value, b: &Value) -> bool {
    let (Value::Array(x), Value::Array(y)) = (a, b) else {
        return false;
    };
    let mut rest: Vec<&Value> = y.iter().collect();
    x.len() == y.len()
        && x.iter()
            .all(|v| match rest.iter().position(|w| same(v, w)) {
                Some(i) => {
                    rest.remove(i);
                    true
                }
                None => false,
            })
}

/// Runs one case; `Err` describes how the outcome differed from the expected one.
fn run_case(
    group_dir: &Path,
    case: &Value,
    datasets: &BTreeMap<String, Value>,
) -> Result<(), String> {
    let expr = match (&case["expr"], &case["expr-file"]) {
        (Value::String(e), _) => e.clone(),
        (_, Value::String(f)) => {
            std::fs::read_to_string(group_dir.join(f)).map_err(|e| e.to_string())?
        }
        _ => return Err("no expression".into()),
    };
    let input = match (case.get("data"), &case["dataset"]) {
        (Some(d), _) => Some(d.clone()),
        (None, Value::String(name)) => Some(datasets[name].clone()),
        _ => None,
    };
    let mut bindings = Bindings::new();
    if let Some(b) = case["bindings"].as_object() {
        for (k, v) in b {
            bindings.insert(k, v);
        }
    }
    let mut limits = Limits {
        max_sequence: 10_000_000,
        ..Limits::default()
    };
    if let Some(d) = case["depth"].as_u64() {
        limits.max_depth = d as usize;
    }
    if let Some(t) = case["timelimit"].as_u64() {
        limits.timeout = Some(Duration::from_millis(t));
    }
    let outcome =
        Expression::parse(&expr).and_then(|x| x.evaluate_with(input.as_ref(), &bindings, &limits));
    let expected_code = case["code"].as_str().or(case["error"]["code"].as_str());
    match (outcome, expected_code) {
        (Err(e), Some(code)) => {
            let got = match e.code.as_str() {
                "D1011" | "D1012" => "U1001",
                c => c,
            };
            if got == code {
                Ok(())
            } else {
                Err(format!("{expr}: expected error {code}, got {e}"))
            }
        }
        (Err(e), None) => Err(format!("{expr}: unexpected error {e}")),
        (Ok(got), Some(code)) => Err(format!("{expr}: expected error {code}, got {got:?}")),
        (Ok(got), None) => {
            if case.get("undefinedResult").is_some() {
                return match got {
                    None => Ok(()),
                    Some(v) => Err(format!("{expr}: expected undefined, got {v}")),
                };
            }
            let expected = case.get("result").ok_or("no expected outcome")?;
            let ok = match &got {
                Some(v) if case["unordered"] == true => same_unordered(v, expected),
                Some(v) => same(v, expected),
                None => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{expr}: expected {expected}, got {got:?}"))
            }
        }
    }
}

#[test]
fn every_case_of_the_jsonata_test_suite_passes() {
    let dir = suite_dir();
    let mut datasets = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("datasets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        datasets.insert(name, read_json(&path));
    }
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir.join("groups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    groups.sort();
    let (mut passed, mut failures) = (0, Vec::new());
    for group in &groups {
        let mut files: Vec<PathBuf> = std::fs::read_dir(group)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let cases = match read_json(&file) {
                Value::Array(cases) => cases,
                case => vec![case],
            };
            for case in &cases {
                match run_case(group, case, &datasets) {
                    Ok(()) => passed += 1,
                    Err(why) => failures.push(format!("{}: {why}", file.display())),
                }
            }
        }
    }
    assert!(
        groups.len() >= 100,
        "the suite is missing: {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        passed + failures.len(),
        failures.join("\n")
    );
    println!("{passed} JSONata test-suite cases passed");
}
