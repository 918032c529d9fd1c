//! The error type of every server function: typed, serialisable, and safe to show a person.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::models::identity::Role;

/// What a server function can answer instead of its value. Messages are written for the person
/// reading the page; internal detail is logged on the server and never carried here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid sign-in came with the request (HTTP 401).
    #[error("You need to sign in to do this.")]
    NotSignedIn,
    /// Signed in, but without a role that allows this (HTTP 403).
    #[error("This needs the {required} role, which your account does not have.")]
    Forbidden { required: Role },
    /// Signed in with the right role, but a rule forbids this to this person (HTTP 403):
    /// approving one's own commit, for instance.
    #[error("{0}")]
    NotAllowed(String),
    /// The request is wrong in a way the person can fix (HTTP 400).
    #[error("{0}")]
    InvalidInput(String),
    /// What the request names does not exist (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists: a used name, a finished run (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// A service Gatehouse depends on (AWS, the engine) refused or failed (HTTP 503).
    #[error("{0}")]
    Upstream(String),
    /// The server is missing something it needs to answer (a bug or a start-up fault).
    #[error("the server could not answer: {0}")]
    Unavailable(String),
    /// The request could not reach the server function or its answer could not be read.
    #[error("{0}")]
    Transport(ServerFnErrorErr),
}

impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            AppError::NotSignedIn => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } | AppError::NotAllowed(_) => http::StatusCode::FORBIDDEN,
            AppError::InvalidInput(_) => http::StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => http::StatusCode::NOT_FOUND,
            AppError::Conflict(_) => http::StatusCode::CONFLICT,
            AppError::Upstream(_) | AppError::Unavailable(_) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Transport(_) => http::StatusCode::BAD_REQUEST,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value)
    }
}
