//! Unit tests of the evaluator as a whole.

use super::*;
use serde_json::json;

fn eval(expr: &str, input: serde_json::Value) -> Option<serde_json::Value> {
    Expression::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate(&input, &Bindings::new())
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn expressions_are_shareable_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Expression>();
    shareable::<Bindings>();
}

#[test]
fn paths_map_over_arrays() {
    let input = json!({"a": [{"b": 1}, {"b": [2, 3]}]});
    assert_eq!(eval("a.b", input), Some(json!([1, 2, 3])));
}
