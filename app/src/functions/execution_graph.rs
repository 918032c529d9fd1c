//! Lays a state machine out for the detail page's SVG and colours it by one execution's
//! history (server only: the browser receives boxes and paths).
//!
//! Layout: states are ranked by their longest distance from `StartAt` along Next/Choice
//! edges (Catch targets one rank below their furthest source); the main path stays in the
//! first column and other states of a rank take the next columns. Catch edges run down a
//! gutter on the right, so they never cross a box.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::models::executions::{
    EdgeKind, GraphEdge, GraphNode, StateGraph, StateOutcome, StateVisit,
};
use crate::models::pipeline::{ExecutionStatus, HistoryEvent};

const NODE_W: i32 = 240;
const NODE_H: i32 = 44;
const GAP_X: i32 = 40;
const GAP_Y: i32 = 34;
const MARGIN: i32 = 16;
const GUTTER: i32 = 14;

/// One way from a state to another: `Next`, a Choice rule or `Default`, or a `Catch`.
pub(crate) struct Transition {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) kind: EdgeKind,
    label: Option<String>,
}

/// Every transition of the definition's top-level `states`.
pub(crate) fn transitions(states: &serde_json::Map<String, Value>) -> Vec<Transition> {
    let mut out = Vec::new();
    for (name, state) in states {
        let mut push = |to: &Value, kind: EdgeKind, label: Option<String>| {
            if let Some(to) = to.as_str() {
                out.push(Transition {
                    from: name.clone(),
                    to: to.to_string(),
                    kind,
                    label,
                });
            }
        };
        push(&state["Next"], EdgeKind::Next, None);
        if let Some(choices) = state["Choices"].as_array() {
            for choice in choices {
                push(&choice["Next"], EdgeKind::Choice, None);
            }
        }
        push(&state["Default"], EdgeKind::Choice, Some("default".into()));
        if let Some(catches) = state["Catch"].as_array() {
            for catch in catches {
                let errors = catch["ErrorEquals"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .filter(|e| !e.is_empty());
                push(&catch["Next"], EdgeKind::Catch, errors);
            }
        }
    }
    out
}

/// Ranks by longest path over forward edges (cycles are cut where a state would revisit one
/// already on the current path).
fn ranks(start: &str, names: &[String], edges: &[Transition]) -> HashMap<String, i32> {
    let mut rank: HashMap<String, i32> = HashMap::new();
    let forward: Vec<&Transition> = edges.iter().filter(|e| e.kind != EdgeKind::Catch).collect();
    // Longest path by repeated relaxation, bounded by the number of states (cycles stop
    // growing once every state has been placed that many times).
    rank.insert(start.to_string(), 0);
    for _ in 0..names.len() {
        let mut changed = false;
        for e in &forward {
            if let Some(&r) = rank.get(&e.from) {
                let candidate = r + 1;
                if candidate < names.len() as i32
                    && rank.get(&e.to).is_none_or(|&old| old < candidate)
                {
                    rank.insert(e.to.clone(), candidate);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // States reached only through a Catch (and what follows them) go below their deepest
    // source; the main flow's ranks stay fixed.
    let fixed: HashSet<String> = rank.keys().cloned().collect();
    for _ in 0..names.len() {
        let mut changed = false;
        for e in edges {
            if fixed.contains(&e.to) {
                continue;
            }
            if let Some(&r) = rank.get(&e.from) {
                let candidate = r + 1;
                if candidate <= names.len() as i32
                    && rank.get(&e.to).is_none_or(|&old| old < candidate)
                {
                    rank.insert(e.to.clone(), candidate);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let deepest = rank.values().copied().max().unwrap_or(0);
    for name in names {
        rank.entry(name.clone()).or_insert(deepest + 1);
    }
    rank
}

/// What happened to each state, read from the history.
pub fn visits(events: &[HistoryEvent], status: ExecutionStatus) -> Vec<StateVisit> {
    let mut visits: Vec<StateVisit> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut failed_inside: HashSet<usize> = HashSet::new();
    for event in events {
        if event.kind.ends_with("StateEntered") {
            if let Some(state) = &event.state {
                open.insert(state.clone(), visits.len());
                visits.push(StateVisit {
                    state: state.clone(),
                    entered: event.at,
                    exited: None,
                    outcome: StateOutcome::Current,
                });
            }
        } else if event.kind.ends_with("StateExited") {
            let closed = event.state.as_ref().and_then(|s| open.remove(s));
            if let Some((index, visit)) = closed.and_then(|i| Some((i, visits.get_mut(i)?))) {
                visit.exited = Some(event.at);
                visit.outcome = if failed_inside.contains(&index) {
                    StateOutcome::Caught
                } else {
                    StateOutcome::Succeeded
                };
            }
        } else if event.kind.ends_with("Failed") || event.kind.ends_with("TimedOut") {
            // A task (or the whole run) failed: it belongs to the newest open visit.
            if let Some(index) = open.values().copied().max() {
                failed_inside.insert(index);
            }
        }
    }
    let running = status == ExecutionStatus::Running;
    for index in open.into_values() {
        if let Some(visit) = visits.get_mut(index) {
            visit.outcome = if running {
                StateOutcome::Current
            } else {
                StateOutcome::Failed
            };
        }
    }
    visits
}

/// The graph of `definition` coloured by `visits`.
pub fn layout(definition: &Value, visits: &[StateVisit]) -> Result<StateGraph, String> {
    let states = definition["States"]
        .as_object()
        .ok_or("the definition has no States")?;
    let start = definition["StartAt"]
        .as_str()
        .ok_or("the definition has no StartAt")?;
    let names: Vec<String> = states.keys().cloned().collect();
    let edges = transitions(states);
    let rank = ranks(start, &names, &edges);

    // Columns: the main path (following Next/Default from StartAt) keeps column 0.
    let mut main: HashSet<String> = HashSet::new();
    let mut cursor = Some(start.to_string());
    while let Some(name) = cursor.take() {
        if !main.insert(name.clone()) {
            break;
        }
        // A Next naming no state ends the main path.
        let Some(state) = states.get(&name) else {
            break;
        };
        cursor = state["Next"]
            .as_str()
            .or_else(|| state["Default"].as_str())
            .map(str::to_string);
    }
    let mut by_rank: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for name in &names {
        // `ranks` gives every state a rank.
        let r = rank.get(name).copied().unwrap_or_default();
        by_rank.entry(r).or_default().push(name.clone());
    }
    let mut position: HashMap<String, (i32, i32)> = HashMap::new();
    let mut columns = 1;
    for (r, members) in &mut by_rank {
        members.sort_by_key(|m| (!main.contains(m), names.iter().position(|n| n == m)));
        let offset = i32::from(!members.iter().any(|m| main.contains(m)));
        for (i, m) in members.iter().enumerate() {
            let column = i as i32 + offset;
            columns = columns.max(column + 1);
            position.insert(m.clone(), (column, *r));
        }
    }

    let catch_count = edges.iter().filter(|e| e.kind == EdgeKind::Catch).count() as i32;
    let body_width = MARGIN * 2 + columns * NODE_W + (columns - 1) * GAP_X;
    let rows = by_rank.len() as i32;
    let width = body_width + GUTTER * (catch_count.min(12) + 1);
    let height = MARGIN * 2 + rows * NODE_H + (rows - 1).max(0) * GAP_Y;
    // Ranks may skip numbers; draw them in order.
    let row_of: HashMap<i32, i32> = by_rank
        .keys()
        .enumerate()
        .map(|(i, r)| (*r, i as i32))
        .collect();
    let xy = |name: &str| -> (i32, i32) {
        // Every state has a position and every rank a row (both built above).
        let (c, r) = position.get(name).copied().unwrap_or_default();
        let row = row_of.get(&r).copied().unwrap_or_default();
        (
            MARGIN + c * (NODE_W + GAP_X),
            MARGIN + row * (NODE_H + GAP_Y),
        )
    };

    let outcome_of = |name: &str| -> StateOutcome {
        visits
            .iter()
            .rev()
            .find(|v| v.state == name)
            .map(|v| v.outcome)
            .unwrap_or(StateOutcome::NotReached)
    };
    let nodes = names
        .iter()
        .map(|name| {
            let (x, y) = xy(name);
            GraphNode {
                name: name.clone(),
                kind: states
                    .get(name)
                    .and_then(|s| s["Type"].as_str())
                    .unwrap_or("?")
                    .to_string(),
                x,
                y,
                width: NODE_W,
                height: NODE_H,
                outcome: outcome_of(name),
            }
        })
        .collect();

    let taken: HashSet<(String, String)> = visits
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((a.state.clone(), b.state.clone())),
            _ => None,
        })
        .collect();
    let mut lane = 0;
    let edges = edges
        .into_iter()
        .filter(|e| position.contains_key(&e.from) && position.contains_key(&e.to))
        .map(|e| {
            let (fx, fy) = xy(&e.from);
            let (tx, ty) = xy(&e.to);
            let path = if e.kind == EdgeKind::Catch {
                lane = lane % 12 + 1;
                let gutter_x = body_width + lane * GUTTER;
                let (sy, ey) = (fy + NODE_H / 2, ty + NODE_H / 2 + (lane % 3) * 4 - 4);
                format!("M{} {sy} H{gutter_x} V{ey} H{}", fx + NODE_W, tx + NODE_W)
            } else if ty > fy {
                let (sx, ex) = (fx + NODE_W / 2, tx + NODE_W / 2);
                let (sy, ey) = (fy + NODE_H, ty);
                let mid = sy + GAP_Y / 2;
                if sx == ex {
                    format!("M{sx} {sy} V{ey}")
                } else {
                    format!("M{sx} {sy} V{mid} H{ex} V{ey}")
                }
            } else {
                // Back edge (a loop): up the left side.
                let x = fx - GAP_X / 2;
                format!("M{fx} {} H{x} V{} H{tx}", fy + NODE_H / 2, ty + NODE_H / 2)
            };
            GraphEdge {
                taken: taken.contains(&(e.from.clone(), e.to.clone())),
                from: e.from,
                to: e.to,
                kind: e.kind,
                path,
                label: e.label,
            }
        })
        .collect();
    Ok(StateGraph {
        width,
        height,
        nodes,
        edges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pipeline::Timestamp;

    fn event(id: i64, kind: &str, state: Option<&str>) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_id: None,
            kind: kind.into(),
            at: Timestamp(id * 1000),
            state: state.map(str::to_string),
            details: None,
        }
    }

    fn definition() -> Value {
        serde_json::json!({
            "StartAt": "A",
            "States": {
                "A": {"Type": "Task", "Next": "B", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}]},
                "B": {"Type": "Task", "Next": "Done", "Catch": [{"ErrorEquals": ["rejected"], "Next": "Rejected"}]},
                "Done": {"Type": "Succeed"},
                "Rejected": {"Type": "Fail"},
                "Oops": {"Type": "Fail"}
            }
        })
    }

    #[test]
    fn a_running_execution_colours_its_current_state() {
        let events = vec![
            event(1, "ExecutionStarted", None),
            event(2, "TaskStateEntered", Some("A")),
            event(3, "TaskStateExited", Some("A")),
            event(4, "TaskStateEntered", Some("B")),
        ];
        let v = visits(&events, ExecutionStatus::Running);
        let graph = layout(&definition(), &v).unwrap();
        let outcome = |n: &str| graph.nodes.iter().find(|x| x.name == n).unwrap().outcome;
        assert_eq!(outcome("A"), StateOutcome::Succeeded);
        assert_eq!(outcome("B"), StateOutcome::Current);
        assert_eq!(outcome("Done"), StateOutcome::NotReached);
        assert_eq!(
            graph
                .edges
                .iter()
                .filter(|e| e.kind == EdgeKind::Catch)
                .count(),
            2
        );
        assert!(graph
            .edges
            .iter()
            .any(|e| e.from == "A" && e.to == "B" && e.taken));
        // Boxes never overlap.
        for a in &graph.nodes {
            for b in &graph.nodes {
                if a.name != b.name {
                    assert!(
                        a.x + a.width <= b.x
                            || b.x + b.width <= a.x
                            || a.y + a.height <= b.y
                            || b.y + b.height <= a.y,
                        "{} overlaps {}",
                        a.name,
                        b.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_caught_failure_is_told_apart_from_the_final_one() {
        let events = vec![
            event(1, "ExecutionStarted", None),
            event(2, "TaskStateEntered", Some("B")),
            event(3, "TaskFailed", None),
            event(4, "TaskStateExited", Some("B")),
            event(5, "FailStateEntered", Some("Rejected")),
            event(6, "ExecutionFailed", None),
        ];
        let v = visits(&events, ExecutionStatus::Failed);
        assert_eq!(v[0].outcome, StateOutcome::Caught);
        assert_eq!(v[1].outcome, StateOutcome::Failed);
    }

    #[test]
    fn a_definition_without_states_is_an_error_not_a_panic() {
        // The page shows this sentence where the graph would be.
        assert_eq!(
            layout(&serde_json::json!({"StartAt": "A"}), &[]).err(),
            Some("the definition has no States".to_string())
        );
        assert_eq!(
            layout(&serde_json::json!({"States": {}}), &[]).err(),
            Some("the definition has no StartAt".to_string())
        );
        assert_eq!(
            layout(&serde_json::json!([]), &[]).err(),
            Some("the definition has no States".to_string())
        );
    }
}
