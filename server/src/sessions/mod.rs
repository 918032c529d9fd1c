//! Server-side sessions (tower-sessions): the browser holds only the session cookie.

pub mod dynamo_store;
pub mod sqlite_store;
