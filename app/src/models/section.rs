//! The sections of Gatehouse, as the navigation shows them.

use super::identity::{Identity, Role};

/// One top-level area of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Executions,
    Approvals,
    Lineage,
    Endpoints,
    Playground,
    Audit,
    About,
}

impl Section {
    /// In the order the navigation lists them.
    pub const ALL: [Section; 7] = [
        Section::Executions,
        Section::Approvals,
        Section::Lineage,
        Section::Endpoints,
        Section::Playground,
        Section::Audit,
        Section::About,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Section::Executions => "/executions",
            Section::Approvals => "/approvals",
            Section::Lineage => "/lineage",
            Section::Endpoints => "/endpoints",
            Section::Playground => "/playground",
            Section::Audit => "/audit",
            Section::About => "/about",
        }
    }

    /// The role a caller needs to open the section; `None` for public pages.
    pub fn required_role(self) -> Option<Role> {
        match self {
            Section::Executions
            | Section::Approvals
            | Section::Lineage
            | Section::Endpoints
            | Section::Playground => Some(Role::Viewer),
            Section::Audit => Some(Role::Admin),
            Section::About => None,
        }
    }

    /// Whether the navigation shows the section to `identity` (anonymous: `None`).
    pub fn visible_to(self, identity: Option<&Identity>) -> bool {
        match (self.required_role(), identity) {
            (None, _) => true,
            (Some(role), Some(identity)) => identity.has(role),
            (Some(_), None) => false,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Executions => "Executions",
            Section::Approvals => "Approvals",
            Section::Lineage => "Lineage",
            Section::Endpoints => "Endpoints",
            Section::Playground => "Playground",
            Section::Audit => "Audit",
            Section::About => "About",
        }
    }

    /// What the section is for, in the words of the people who use it.
    pub fn purpose(self) -> &'static str {
        match self {
            Section::Executions => {
                "Every run of the pipeline: did a commit train, where is it now, what did it produce, \
                 with the state graph and event timeline of each execution."
            }
            Section::Approvals => {
                "Pending approvals with their evidence (predictions, accuracy, confusion matrix, \
                 comparison with the serving model), decided by a signed-in approver."
            }
            Section::Lineage => {
                "From a commit ID to its training job, model artifact, model, transform output, \
                 endpoint config and endpoint, and back: which commit serves now?"
            }
            Section::Endpoints => {
                "Endpoint status, the model and commit each serves, roll back to an earlier model, \
                 delete with confirmation."
            }
            Section::Playground => {
                "Send CSV rows to a pipeline endpoint and see the labels and the latency."
            }
            Section::Audit => {
                "The tamper-evident record of who did what, when and from where: filter, export, verify."
            }
            Section::About => "This server: mode, version, build commit and uptime.",
        }
    }
}
