//! The sign-in pages. Plain HTML forms posted to the server's `/auth/*` handlers, so they work
//! before (and without) the WebAssembly bundle; the server answers with a redirect.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::models::navigation::safe_next;

/// What a `?error=` code from the sign-in handler means to the person signing in.
fn explain(code: &str, retry_after: Option<&str>) -> String {
    match code {
        "credentials" => "Wrong username or password.".into(),
        "missing" => "Enter your username and password.".into(),
        "throttled" => match retry_after {
            Some(seconds) => {
                format!("Too many failed sign-ins. Wait {seconds} seconds before trying again.")
            }
            None => "Too many failed sign-ins. Wait a little before trying again.".into(),
        },
        "expired" => "Your sign-in has ended; please sign in again.".into(),
        "mismatch" => "The two new passwords are not the same.".into(),
        "rejected" => "That password cannot be used; choose a longer or less common one.".into(),
        "unavailable" => "Sign-in is unavailable right now; please try again shortly.".into(),
        _ => "Sign-in failed; please try again.".into(),
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    let message = move || {
        let query = query.read();
        query
            .get("error")
            .map(|code| explain(&code, query.get("retry_after").as_deref()))
    };
    let signed_out = move || query.read().get("signed_out").is_some();

    view! {
        <Title text="Sign in"/>
        <section class="signin">
            <h1>"Sign in to Gatehouse"</h1>
            <Show when=signed_out>
                <p class="notice" role="status" data-testid="signed-out">"You are signed out."</p>
            </Show>
            {move || message().map(|message| view! {
                <p class="error-banner" role="alert" data-testid="signin-error">{message}</p>
            })}
            <form class="stacked-form" method="post" action="/auth/signin">
                <input type="hidden" name="next" value=next/>
                <label>
                    "Username"
                    <input type="text" name="username" autocomplete="username" required autofocus/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" data-testid="signin-submit">"Sign in"</button>
            </form>
        </section>
    }
}

/// Cognito's `NEW_PASSWORD_REQUIRED` challenge: the user's password was right, but they must
/// choose a new one before they are signed in.
#[component]
pub fn NewPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    let message = move || query.read().get("error").map(|code| explain(&code, None));

    view! {
        <Title text="Choose a new password"/>
        <section class="signin">
            <h1>"Choose a new password"</h1>
            <p>"Your password was right, but it must be changed before you can sign in."</p>
            {move || message().map(|message| view! {
                <p class="error-banner" role="alert">{message}</p>
            })}
            <form class="stacked-form" method="post" action="/auth/new-password">
                <input type="hidden" name="next" value=next/>
                <label>
                    "New password"
                    <input type="password" name="new_password" autocomplete="new-password" required/>
                </label>
                <label>
                    "New password again"
                    <input type="password" name="confirm" autocomplete="new-password" required/>
                </label>
                <button type="submit">"Set password and sign in"</button>
            </form>
        </section>
    }
}
