use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::identity::{Identity, UserList};

/// Who is signed in on this request, if anyone.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Identity>, AppError> {
    Ok(crate::functions::access::caller().identity().cloned())
}

/// The users Gatehouse manages, for admins.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<UserList, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Admin)?;
    match crate::state::server_context()?.users {
        Some(directory) => Ok(UserList::Local(directory.list().await?)),
        None => Ok(UserList::ManagedElsewhere),
    }
}
