use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::role_gate::RoleGate;
use crate::errors::AppError;
use crate::functions::identity::list_users;
use crate::models::identity::{Role, UserList};

/// Admins: the users Gatehouse manages and their roles.
#[component]
pub fn UsersPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let users = Resource::new_blocking(|| (), |_| list_users());
    view! {
        <Title text="Users"/>
        <RoleGate role=Role::Admin>
            <UserTable users/>
        </RoleGate>
    }
}

#[component]
fn UserTable(users: Resource<Result<UserList, AppError>>) -> impl IntoView {
    view! {
        <section class="users">
            <h1>"Users"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(UserList::Local(users)) => view! {
                            <p>
                                "Change users from the server's terminal: "
                                <code>"gatehouse users add|remove|set-roles|list"</code>
                            </p>
                            <table class="data-table" data-testid="users-table">
                                <thead><tr><th>"Username"</th><th>"Roles"</th></tr></thead>
                                <tbody>
                                    {users
                                        .into_iter()
                                        .map(|user| {
                                            let roles = user
                                                .roles
                                                .iter()
                                                .map(|role| role.as_str())
                                                .collect::<Vec<_>>()
                                                .join(", ");
                                            view! { <tr><td>{user.username}</td><td>{roles}</td></tr> }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                        Ok(UserList::ManagedElsewhere) => view! {
                            <p>"Users and their groups are managed in the Cognito user pool."</p>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <p class="error-banner" role="alert">{error.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
