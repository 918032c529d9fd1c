//! JSONata states on arbitrary text: definitions read as JSONata machines and states
//! (`QueryLanguage`, `Arguments`, `Output`, `Assign`, `Condition`, `Items`, …), `"{% %}"`
//! payloads evaluated against `$states` and workflow variables, single expressions, and
//! JSONata `Assign` stored through the variable limits: none may panic.
#![no_main]

use engine::asl::assign::Assign;
use engine::asl::definition::StateMachine;
use engine::asl::query::{Expr, Payload, StatesEnv};
use engine::asl::variables::Variables;
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
    let context = json!({"Execution": {"Id": "arn:x", "Input": doc}, "Task": {"Token": "t"},
        "Map": {"Item": {"Index": 1, "Value": {"v": 2}}}});
    let mut variables = Variables::new();
    variables.apply(doc.as_object().cloned().unwrap_or_default());
    let variables = variables.inner_scope();
    let error = json!({"Error": "E", "Cause": "c"});
    let env = StatesEnv::new(&doc, &context, &variables)
        .with_result(&doc["o"])
        .with_error_output(&error);

    // The text as one expression, and as a whole definition.
    if let Ok(expr) = Expr::parse(text) {
        let _ = expr.evaluate("Output", &env);
    }
    let _ = StateMachine::parse_str(text);
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    // The value as a JSONata machine, and as a JSONata state of a JSONPath machine.
    if let Some(mut machine) = value.as_object().cloned() {
        machine.insert("QueryLanguage".into(), json!("JSONata"));
        let _ = StateMachine::parse(&Value::Object(machine));
    }
    let mut state = value.clone();
    if let Some(obj) = state.as_object_mut() {
        obj.insert("QueryLanguage".into(), json!("JSONata"));
    }
    let _ = StateMachine::parse(&json!({"StartAt": "A", "States": {"A": state}}));
    let _ = StateMachine::parse(
        &json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": value}}),
    );
    // The value as a payload (Arguments, Output, Items, ItemSelector) and as an Assign.
    if let Ok(payload) = Payload::compile(&value, "Output") {
        let _ = payload.evaluate("Output", &env);
    }
    if let Ok(assign) = Assign::parse_jsonata(&value, "Assign") {
        if let Ok(assigned) = assign.evaluate_jsonata("Assign", &env) {
            if variables.check(&assigned).is_ok() {
                let mut inner = variables.clone();
                inner.apply(assigned);
            }
        }
    }
});
