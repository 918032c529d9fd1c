//! What the Executions pages show: a filtered, sorted page of the list, and one execution with
//! its state graph and timeline.

use serde::{Deserialize, Serialize};

use super::pipeline::{ExecutionDetail, ExecutionSummary, HistoryEvent, Timestamp};

/// Rows per page of the executions list unless the reader asks for another of [`PAGE_SIZES`].
pub const PAGE_SIZE: usize = 25;

/// The page sizes a reader may choose: enough for a long day's runs on one screen, few enough
/// that a page stays quick to draw.
pub const PAGE_SIZES: [usize; 3] = [25, 50, 100];

/// The list's filters and sort as the page's query string carries them (all optional, all
/// text: the server reads and checks them, so a hand-edited URL gets a clear message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionFilter {
    /// `RUNNING`, `SUCCEEDED`, … or empty for all.
    pub status: Option<String>,
    /// Text found in the execution's name or commit.
    pub commit: Option<String>,
    /// `YYYY-MM-DD`: started on or after this day (UTC).
    pub from: Option<String>,
    /// `YYYY-MM-DD`: started on or before this day (UTC).
    pub to: Option<String>,
    /// `started` (default), `name`, `status` or `duration`.
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub dir: Option<String>,
    /// 1-based.
    pub page: Option<usize>,
    /// Rows per page: one of [`PAGE_SIZES`] ([`PAGE_SIZE`] when absent).
    pub per: Option<usize>,
}

/// What a column header sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Started,
    Name,
    Status,
    Duration,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Started => "started",
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::Duration => "duration",
        }
    }

    pub fn parse(text: &str) -> Option<SortKey> {
        [
            SortKey::Started,
            SortKey::Name,
            SortKey::Status,
            SortKey::Duration,
        ]
        .into_iter()
        .find(|k| k.as_str() == text.trim())
    }
}

/// One page of the filtered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionTable {
    pub rows: Vec<ExecutionSummary>,
    /// Rows matching the filter, over all pages.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    /// Rows per page.
    pub per_page: usize,
    pub sort: SortKey,
    pub descending: bool,
    /// The server's clock when the page was drawn: durations of running executions count
    /// up to it.
    pub now: Timestamp,
    /// True when the pipeline has more executions than the list reads at once.
    pub truncated: bool,
}

/// How a state fared in one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateOutcome {
    Succeeded,
    /// Failed and the execution stopped there.
    Failed,
    /// Failed, and a Catch took the execution elsewhere.
    Caught,
    /// Where a running execution is now.
    Current,
    NotReached,
}

impl StateOutcome {
    pub fn css_class(self) -> &'static str {
        match self {
            StateOutcome::Succeeded => "succeeded",
            StateOutcome::Failed => "failed",
            StateOutcome::Caught => "caught",
            StateOutcome::Current => "current",
            StateOutcome::NotReached => "not-reached",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateOutcome::Succeeded => "succeeded",
            StateOutcome::Failed => "failed",
            StateOutcome::Caught => "failed, caught",
            StateOutcome::Current => "current",
            StateOutcome::NotReached => "not reached",
        }
    }
}

/// A state drawn as a box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    pub name: String,
    /// `Task`, `Choice`, `Fail`, …
    pub kind: String,
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    pub outcome: StateOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EdgeKind {
    Next,
    /// A Choice rule or its Default.
    Choice,
    /// A Catch: where an error goes.
    Catch,
}

/// A transition drawn as an SVG path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// The SVG path (`d` attribute).
    pub path: String,
    /// What the edge is labelled with (a Catch's error names).
    pub label: Option<String>,
    /// True when this execution went along it.
    pub taken: bool,
}

/// The state machine laid out for drawing, coloured by one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateGraph {
    pub width: i32,
    pub height: i32,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// A state's stay in one execution, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVisit {
    pub state: String,
    pub entered: Timestamp,
    /// `None` while the execution is still in it (or it ended there).
    pub exited: Option<Timestamp>,
    pub outcome: StateOutcome,
}

/// A SageMaker resource the execution created, for the links under the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedResource {
    /// `Training job`, `Model`, `Transform output`, `Endpoint config`, `Endpoint`.
    pub kind: String,
    pub name: String,
    /// Where the page links to, when Gatehouse has a page for it.
    pub href: Option<String>,
}

#[cfg(feature = "ssr")]
impl CreatedResource {
    /// The SageMaker resources a run created or deployed, read from its successful tasks'
    /// parameters, in the order it made them. Both of Step Functions' forms count (the
    /// optimised `sagemaker:createModel` and the SDK's `aws-sdk:sagemaker:createModel`), and an
    /// endpoint the run updated is listed like one it created: it is where the run deployed.
    pub fn from_history(events: &[HistoryEvent]) -> Vec<CreatedResource> {
        let scheduled: std::collections::HashMap<i64, serde_json::Value> = events
            .iter()
            .filter(|e| e.kind == "TaskScheduled")
            .filter_map(|e| Some((e.id, serde_json::from_str(e.details.as_deref()?).ok()?)))
            .collect();
        let mut out = Vec::new();
        for event in events.iter().filter(|e| e.kind == "TaskSucceeded") {
            // TaskSucceeded follows TaskStarted, which follows TaskScheduled.
            let mut cursor = event.previous_id;
            let mut details = None;
            for _ in 0..3 {
                let Some(id) = cursor else { break };
                if let Some(d) = scheduled.get(&id) {
                    details = Some(d);
                    break;
                }
                cursor = events
                    .iter()
                    .find(|e| e.id == id)
                    .and_then(|e| e.previous_id);
            }
            let Some(details) = details else { continue };
            let parameters: serde_json::Value = details["parameters"]
                .as_str()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_else(|| details["parameters"].clone());
            if let Some(found) = Self::made_by(sagemaker_action(details), &parameters) {
                out.push(found);
            }
        }
        out
    }

    /// What one SageMaker action with these parameters made, if it makes anything.
    fn made_by(action: &str, parameters: &serde_json::Value) -> Option<CreatedResource> {
        let text = |key: &str| parameters[key].as_str().map(str::to_string);
        let (kind, name, href) = match action {
            "createTrainingJob" => ("Training job", text("TrainingJobName")?, None),
            "createModel" => ("Model", text("ModelName")?, None),
            "createTransformJob" => (
                "Transform output",
                parameters
                    .pointer("/TransformOutput/S3OutputPath")?
                    .as_str()?
                    .to_string(),
                None,
            ),
            "createEndpointConfig" => ("Endpoint config", text("EndpointConfigName")?, None),
            "createEndpoint" | "updateEndpoint" => {
                let name = text("EndpointName")?;
                let href = format!("/endpoints?name={name}");
                ("Endpoint", name, Some(href))
            }
            _ => return None,
        };
        Some(CreatedResource {
            kind: kind.into(),
            name,
            href,
        })
    }
}

/// The SageMaker action a `TaskScheduled` event names, as Step Functions writes it:
/// `resourceType` `sagemaker` (the optimised integration) or `aws-sdk:sagemaker` (the SDK
/// one), `resource` the action with its pattern (`createTrainingJob.sync`). Empty for any
/// other service.
#[cfg(feature = "ssr")]
fn sagemaker_action(details: &serde_json::Value) -> &str {
    match details["resourceType"].as_str() {
        Some("sagemaker" | "aws-sdk:sagemaker") => details["resource"]
            .as_str()
            .and_then(|r| r.split('.').next())
            .unwrap_or_default(),
        _ => "",
    }
}

/// Everything the detail page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionView {
    pub detail: ExecutionDetail,
    pub graph: Option<StateGraph>,
    /// Why the graph is missing, when it is.
    pub graph_problem: Option<String>,
    pub visits: Vec<StateVisit>,
    pub events: Vec<HistoryEvent>,
    pub resources: Vec<CreatedResource>,
    /// Input and output pretty-printed.
    pub input_pretty: Option<String>,
    pub output_pretty: Option<String>,
    pub now: Timestamp,
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::json;

    /// A task's three events as Step Functions writes them: scheduled (with the resource and
    /// its parameters as a JSON string), started, succeeded.
    fn task(
        first_id: i64,
        resource_type: &str,
        resource: &str,
        parameters: serde_json::Value,
    ) -> Vec<HistoryEvent> {
        let event = |id: i64, kind: &str, details: Option<serde_json::Value>| HistoryEvent {
            id,
            previous_id: Some(id - 1),
            kind: kind.into(),
            at: Timestamp(0),
            state: None,
            details: details.map(|d| d.to_string()),
        };
        vec![
            event(
                first_id,
                "TaskScheduled",
                Some(json!({"resourceType": resource_type, "resource": resource,
                            "parameters": parameters.to_string()})),
            ),
            event(first_id + 1, "TaskStarted", None),
            event(first_id + 2, "TaskSucceeded", Some(json!({"output": "{}"}))),
        ]
    }

    #[test]
    fn a_run_lists_what_it_made_in_either_integration_form_and_where_it_deployed() {
        let mut events = task(
            2,
            "sagemaker",
            "createTrainingJob.sync",
            json!({"TrainingJobName": "1a2b3c4d-run"}),
        );
        events.extend(task(
            5,
            "aws-sdk:sagemaker",
            "createEndpointConfig",
            json!({"EndpointConfigName": "1a2b3c4d-run"}),
        ));
        // Looking an endpoint up makes nothing; updating one is where the run deployed.
        events.extend(task(
            8,
            "aws-sdk:sagemaker",
            "describeEndpoint",
            json!({"EndpointName": "iris-serving"}),
        ));
        events.extend(task(
            11,
            "aws-sdk:sagemaker",
            "updateEndpoint",
            json!({"EndpointName": "iris-serving", "EndpointConfigName": "1a2b3c4d-run"}),
        ));
        // Another service's action of the same name is not SageMaker's.
        events.extend(task(
            14,
            "aws-sdk:ecs",
            "createService",
            json!({"ServiceName": "x"}),
        ));
        let made: Vec<(String, String)> = CreatedResource::from_history(&events)
            .into_iter()
            .map(|r| (r.kind, r.name))
            .collect();
        assert_eq!(
            made,
            vec![
                ("Training job".to_string(), "1a2b3c4d-run".to_string()),
                ("Endpoint config".to_string(), "1a2b3c4d-run".to_string()),
                ("Endpoint".to_string(), "iris-serving".to_string()),
            ]
        );
    }
}
