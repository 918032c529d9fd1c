//! Definition parsing + validation, JSONPath selection and assignment, payload templates,
//! choice rules, intrinsic functions and variable assignments on arbitrary text: none may
//! panic.
#![no_main]

use engine::asl::assign::Assign;
use engine::asl::choice::Condition;
use engine::asl::definition::StateMachine;
use engine::asl::intrinsics::Intrinsic;
use engine::asl::jsonpath::JsonPath;
use engine::asl::template::Template;
use engine::asl::variables::{Sources, Variables};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let doc = json!({
        "a": [1, 2.5, "x", null, true, {"b": [3, 4]}],
        "s": "hello, world", "n": 42, "ts": "2016-03-14T01:59:00Z",
        "o": {"k": {"deep": [[1], [2, 3]]}}, "e": "", "neg": -7
    });
    let mut variables = Variables::new();
    variables.apply(doc.as_object().cloned().unwrap_or_default());
    let variables = variables.inner_scope();
    let sources = Sources::new(&doc, &doc, &variables);
    let _ = StateMachine::parse_str(text);
    if let Ok(path) = JsonPath::parse(text) {
        let _ = path.select(&sources);
        let _ = path.is_present(&sources);
        let _ = path.set(doc.clone(), json!(1));
    }
    if let Ok(call) = Intrinsic::parse(text) {
        let _ = call.evaluate(&sources);
    }
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        if let Ok(template) = Template::compile(&value) {
            let _ = template.evaluate(&sources);
        }
        if let Some(rule) = value.as_object() {
            if let Ok(condition) = Condition::parse(rule) {
                let _ = condition.evaluate(&sources);
            }
        }
        if let Ok(assign) = Assign::parse(&value) {
            if let Ok(assigned) = assign.evaluate(&sources) {
                if variables.check(&assigned).is_ok() {
                    let mut inner = variables.clone();
                    inner.apply(assigned);
                }
            }
        }
    }
});
