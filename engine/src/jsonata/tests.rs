//! Tests of the public API: bindings, undefined results, errors with positions, and the
//! limits that keep any expression from exhausting the stack, the clock or memory.

use super::*;
use serde_json::json;

fn eval(expr: &str, input: serde_json::Value) -> Option<serde_json::Value> {
    Expression::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate(&input, &Bindings::new())
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn error(expr: &str, limits: &Limits) -> JsonataError {
    Expression::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate_with(None, &Bindings::new(), limits)
        .expect_err(expr)
}

#[test]
fn expressions_and_bindings_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Expression>();
    shareable::<Bindings>();
}

// The examples of https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
// ("Example: Input and Output" and "Example: Filtering with JSONata"), with `$states` bound
// as Step Functions binds it and no `$` input.
#[test]
fn the_aws_transforming_data_examples_give_the_documented_output() {
    let input = json!({
        "customer": {"firstName": "Martha", "lastName": "Rivera"},
        "order": {"items": 7, "total": 27.91}
    });
    let states = Bindings::new().with("states", &json!({"input": input, "context": {}}));
    let run = |expr: &str| {
        Expression::parse(expr)
            .unwrap()
            .evaluate_with(None, &states, &Limits::default())
            .unwrap()
    };
    assert_eq!(
        run("'Last=>' & $states.input.customer.lastName"),
        Some(json!("Last=>Rivera"))
    );
    assert_eq!(run("$states.input.order.total"), Some(json!(27.91)));

    let products = json!({"products": [
        {"calories": 140, "flavour": "Cola", "name": "Product-1"},
        {"calories": 0, "flavour": "Cola", "name": "Product-2"},
        {"calories": 160, "flavour": "Orange", "name": "Product-3"},
        {"calories": 100, "flavour": "Orange", "name": "Product-4"},
        {"calories": 0, "flavour": "Lime", "name": "Product-5"}
    ]});
    let states = Bindings::new().with("states", &json!({ "input": products }));
    let out = Expression::parse("$states.input.products[calories=0]")
        .unwrap()
        .evaluate_with(None, &states, &Limits::default())
        .unwrap();
    assert_eq!(
        out,
        Some(json!([
            {"calories": 0, "flavour": "Cola", "name": "Product-2"},
            {"calories": 0, "flavour": "Lime", "name": "Product-5"}
        ]))
    );
}

// "Failure to return a result": AWS turns an undefined result into an error; the
// evaluator reports it as None so that the runtime can.
#[test]
fn a_missing_field_is_undefined_not_null() {
    assert_eq!(eval("thisFieldDoesNotExist", json!({"a": 1})), None);
    assert_eq!(eval("a", json!({"a": null})), Some(json!(null)));
}

#[test]
fn errors_say_where_they_happened() {
    let e = Expression::parse("1 + ").unwrap_err();
    assert_eq!(e.code, ErrorCode::S0207);
    let e = error("1 + 'a'", &Limits::default());
    assert_eq!(e.code, ErrorCode::T2002);
    assert_eq!(e.position, Some(2));
    assert!(
        e.to_string().contains("right side of the + operator"),
        "{e}"
    );
}

// Step Functions does not support $eval (transforming-data.html, "$parse").
#[test]
fn eval_is_not_available() {
    assert_eq!(
        error("$eval('1 + 1')", &Limits::default()).code,
        ErrorCode::T1006
    );
}

#[test]
fn deep_recursion_stops_with_an_error_on_a_two_megabyte_stack() {
    // 2 MiB is the stack of tokio's worker threads and of std's spawned threads.
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let limits = Limits {
                max_depth: usize::MAX,
                ..Limits::default()
            };
            let recursions = [
                "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))",
                "($f := function($n){ $n = 0 ? [] : [$f($n - 1)] }; $f(1000000))",
                "($f := function($n){ $n = 0 ? 0 : $sum($map([1], function($x){ $f($n - 1) })) }; $f(1000000))",
                "($f := function($n){ {'a': $n = 0 ? 0 : $f($n - 1)} }; $f(1000000))",
            ];
            recursions.map(|e| error(e, &limits).code)
        })
        .unwrap();
    let codes = handle.join().expect("no stack overflow");
    assert_eq!(codes, [ErrorCode::D1011; 4]);
}

#[test]
fn tail_recursion_runs_in_constant_depth() {
    let expr = "($count := function($n, $acc){ $n = 0 ? $acc : $count($n - 1, $acc + 1) }; $count(100000, 0))";
    assert_eq!(eval(expr, json!(null)), Some(json!(100000)));
}

#[test]
fn an_endless_loop_times_out() {
    let limits = Limits {
        timeout: Some(std::time::Duration::from_millis(200)),
        ..Limits::default()
    };
    let e = error("($f := function(){ $f() }; $f())", &limits);
    assert_eq!(e.code, ErrorCode::D1012);
}

#[test]
fn huge_sequences_are_refused_before_they_are_allocated() {
    let limits = Limits::default();
    assert_eq!(
        error("$count([1..100000000])", &limits).code,
        ErrorCode::D2014
    );
    assert_eq!(error("$range(0, 1e12, 1)", &limits).code, ErrorCode::D2014);
    assert_eq!(eval("$count([1..1000])", json!(null)), Some(json!(1000)));
}

#[test]
fn values_nested_too_deeply_are_refused() {
    let e = error(
        "$string($reduce([1..5000], function($acc, $v){ {'a': $acc} }, {}))",
        &Limits::default(),
    );
    assert_eq!(e.code, ErrorCode::U1002);
}

#[test]
fn one_parsed_expression_evaluates_against_many_inputs() {
    let expr = Expression::parse("Account.Order.Product[Price > $min].SKU").unwrap();
    let bindings = Bindings::new().with("min", &json!(30));
    let input = |price: f64| json!({"Account": {"Order": [{"Product": [{"SKU": "a", "Price": price}, {"SKU": "b", "Price": 50}]}]}});
    assert_eq!(
        expr.evaluate(&input(10.0), &bindings).unwrap(),
        Some(json!("b"))
    );
    assert_eq!(
        expr.evaluate(&input(40.0), &bindings).unwrap(),
        Some(json!(["a", "b"]))
    );
}

#[test]
fn runaway_growth_is_refused_before_memory_runs_out() {
    let limits = Limits::default();
    let doubling_string = "($f := function($s){ $f($s & $s) }; $f('ab'))";
    assert_eq!(error(doubling_string, &limits).code, ErrorCode::U1004);
    let doubling_array = "($f := function($a){ $f($append($a, $a)) }; $f([1, 2]))";
    assert_eq!(error(doubling_array, &limits).code, ErrorCode::D2014);
    let growing_replace = "($f := function($s){ $f($replace($s, 'a', 'aaaa')) }; $f('a'))";
    assert_eq!(error(growing_replace, &limits).code, ErrorCode::U1004);
    assert_eq!(
        error("$formatInteger(0/0, 'w')", &limits).code,
        ErrorCode::D3001
    );
    assert_eq!(
        eval("$formatBase(10 % 0, 3)", json!(null)),
        Some(json!("NaN"))
    );
}

// transforming-data.html: "the string must start with {% with no leading spaces, and must
// end with %} with no trailing spaces"; strings without the delimiters are literals.
#[test]
fn templates_are_recognised_only_with_both_delimiters_at_the_edges() {
    assert_eq!(
        template("{% $states.input.title %}"),
        Some(" $states.input.title ")
    );
    assert_eq!(template("$customerName"), None);
    assert_eq!(template(" {% $x %}"), None);
    assert_eq!(template("{% $x %} "), None);
    assert_eq!(template("{% $x"), None);
}
