//! Variable scopes, checked when a definition is read.
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html> ("Variable
//! scope"): the top-level states form one scope and each Parallel branch and Map item
//! processor another. "A variable exists in a scope if any state in the scope assigns a
//! value to it", and "a variable assigned in an inner scope cannot have the same name as one
//! assigned in an outer scope". A catcher's `Assign` belongs to the scope of the state that
//! has the catcher.
//!
//! Reading a variable that no state assigns is not refused here: Step Functions accepts the
//! definition and the read fails when it runs.

use super::{Issue, State, StateKind, StateMachine};
use std::collections::BTreeSet;

/// Adds an issue for every assignment in an inner scope to a name an outer scope assigns.
pub(super) fn check(machine: &StateMachine, issues: &mut Vec<Issue>) {
    walk(machine, "", &BTreeSet::new(), issues);
}

/// The `Assign` fields of a state that belong to the state's own scope, with their location
/// relative to the state.
fn assignments(state: &State) -> Vec<(String, Vec<&str>)> {
    let mut out = Vec::new();
    if let Some(assign) = &state.assign {
        out.push(("Assign".to_string(), assign.names().collect()));
    }
    if let StateKind::Choice { choices, .. } = &state.kind {
        for (i, branch) in choices.iter().enumerate() {
            if let Some(assign) = &branch.assign {
                out.push((format!("Choices[{i}].Assign"), assign.names().collect()));
            }
        }
    }
    for (i, catcher) in state.catch.iter().enumerate() {
        if let Some(assign) = &catcher.assign {
            out.push((format!("Catch[{i}].Assign"), assign.names().collect()));
        }
    }
    out
}

fn walk(machine: &StateMachine, prefix: &str, outer: &BTreeSet<String>, issues: &mut Vec<Issue>) {
    let mut own: BTreeSet<String> = BTreeSet::new();
    for (name, state) in &machine.states {
        for (field, names) in assignments(state) {
            for variable in names {
                if outer.contains(variable) {
                    issues.push(Issue {
                        location: format!("{prefix}States.{name}.{field}"),
                        message: format!(
                            "the variable '{variable}' is assigned in an outer scope: a Parallel branch or a Map iteration can read it but cannot assign it (an inner scope cannot assign a name an outer scope assigns)"
                        ),
                    });
                }
                own.insert(variable.to_string());
            }
        }
    }
    let visible: BTreeSet<String> = outer.union(&own).cloned().collect();
    for (name, state) in &machine.states {
        match &state.kind {
            StateKind::Parallel { branches } => {
                for (i, branch) in branches.iter().enumerate() {
                    let inner = format!("{prefix}States.{name}.Branches[{i}].");
                    walk(branch, &inner, &visible, issues);
                }
            }
            StateKind::Map { processor, .. } => {
                let inner = format!("{prefix}States.{name}.ItemProcessor.");
                walk(processor, &inner, &visible, issues);
            }
            _ => {}
        }
    }
}
