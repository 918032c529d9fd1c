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
