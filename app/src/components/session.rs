//! The signed-in user, loaded once per page and shared by the nav and the pages.

use leptos::prelude::*;

use crate::errors::AppError;
use crate::functions::identity::current_user;
use crate::models::identity::Identity;

/// The current user as a resource every component can read.
#[derive(Clone, Copy)]
pub struct SessionUser(pub Resource<Result<Option<Identity>, AppError>>);

/// Loads the current user; call once, at the top of the app. Blocking, so pages that depend
/// on it are rendered complete on the server.
pub fn provide_session_user() {
    let resource = Resource::new_blocking(|| (), |_| current_user());
    provide_context(SessionUser(resource));
}

pub fn use_session_user() -> SessionUser {
    use_context::<SessionUser>().unwrap_or_else(|| {
        // Only reachable if a component is rendered outside `App`; fall back to a fresh load.
        SessionUser(Resource::new_blocking(|| (), |_| current_user()))
    })
}
