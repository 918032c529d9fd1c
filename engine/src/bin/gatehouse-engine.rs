//! `gatehouse-engine validate FILE`
//! `gatehouse-engine run --definition FILE --input FILE [--substitutions FILE] [--data-dir DIR] [--database FILE] [--name NAME]`
//!
//! Exit codes: 0 success, 1 the execution failed (prints {"error","cause"}), 2 invalid
//! definition or usage.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use engine::asl::definition::StateMachine;
use engine::asl::substitutions::substitute;
use engine::{Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:\n  gatehouse-engine validate FILE [--substitutions FILE]\n  gatehouse-engine run --definition FILE --input FILE [--substitutions FILE] [--data-dir DIR] [--database FILE] [--name NAME]";

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn substitutions(path: Option<&String>) -> Result<BTreeMap<String, String>, String> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let value: Value =
        serde_json::from_str(&read(path)?).map_err(|e| format!("{path}: not JSON: {e}"))?;
    let map = value
        .as_object()
        .ok_or_else(|| format!("{path}: must be a JSON object of names to strings"))?;
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            other => Ok((k.clone(), other.to_string())),
        })
        .collect()
}

struct Options {
    positional: Vec<String>,
    named: BTreeMap<String, String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut positional = Vec::new();
    let mut named = BTreeMap::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(name) = arg.strip_prefix("--") {
            let value = iter
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            named.insert(name.to_string(), value.clone());
        } else {
            positional.push(arg.clone());
        }
    }
    Ok(Options { positional, named })
}

fn validate(options: &Options) -> Result<ExitCode, String> {
    let [file] = options.positional.as_slice() else {
        return Err(USAGE.into());
    };
    let mut value: Value = match serde_json::from_str(&read(file)?) {
        Ok(v) => v,
        Err(e) => {
            println!(
                "{}",
                json!({"valid": false, "errors": [format!("(definition): not valid JSON: {e}")]})
            );
            return Ok(ExitCode::from(2));
        }
    };
    let unresolved = substitute(
        &mut value,
        &substitutions(options.named.get("substitutions"))?,
    );
    match StateMachine::parse(&value) {
        Ok(_) => {
            println!(
                "{}",
                json!({"valid": true, "unresolvedSubstitutions": unresolved})
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let errors: Vec<String> = e.issues.iter().map(|i| i.to_string()).collect();
            println!("{}", json!({"valid": false, "errors": errors}));
            Ok(ExitCode::from(2))
        }
    }
}

async fn run(options: &Options) -> Result<ExitCode, String> {
    let definition_path = options.named.get("definition").ok_or(USAGE)?;
    let input_path = options.named.get("input").ok_or(USAGE)?;
    let definition = read(definition_path)?;
    let input = read(input_path)?;
    let subs = substitutions(options.named.get("substitutions"))?;
    let data_dir = match options.named.get("data-dir") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join("gatehouse-data"),
    };
    let database = options.named.get("database").map(PathBuf::from);
    let engine = Engine::open(EngineConfig::new(database, data_dir))
        .await
        .map_err(|e| e.to_string())?;
    let arn = match engine.create_state_machine("cli", &definition, &subs) {
        Ok(arn) => arn,
        Err(engine::EngineError::InvalidDefinition(e)) => {
            let errors: Vec<String> = e.issues.iter().map(|i| i.to_string()).collect();
            println!("{}", json!({"valid": false, "errors": errors}));
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.to_string()),
    };
    let started = engine
        .start_execution(
            &arn,
            options.named.get("name").map(String::as_str),
            Some(&input),
        )
        .map_err(|e| e.to_string())?;
    let done = engine
        .wait_for_execution(&started.execution_arn)
        .await
        .map_err(|e| e.to_string())?;
    match done.status {
        ExecutionStatus::Succeeded => {
            println!("{}", done.output.unwrap_or_else(|| "null".into()));
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            println!("{}", json!({"error": done.error, "cause": done.cause}));
            Ok(ExitCode::from(1))
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = parse_options(rest).and_then(|options| match command.as_str() {
        "validate" => validate(&options),
        "run" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(run(&options))),
        _ => Err(USAGE.into()),
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
