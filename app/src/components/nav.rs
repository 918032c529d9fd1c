use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::countdown::Countdowns;
use crate::components::live::LiveUpdates;
use crate::components::navigation::Navigation;
use crate::components::session::use_session_user;
use crate::components::theme::ThemeToggle;
use crate::functions::approvals::pending_approval_count;
use crate::models::identity::Identity;
use crate::models::section::Section;

/// The bar at the top of every page: the name, the sections the caller's roles allow, who is
/// signed in, the theme switch. It also carries the page's islands, so they are the same on
/// every page and keep running while the reader moves between pages.
#[component]
pub fn TopBar() -> impl IntoView {
    let session = use_session_user();
    // The badge's count is loaded here, outside the <Suspense> below: on the server it walks
    // its children up to three times, and a resource created inside would fetch each time.
    // Nobody signed in, nothing to count (and no refused call).
    let pending = Resource::new_blocking(
        move || (),
        move |_| async move {
            match session.0.await {
                Ok(Some(_)) => pending_approval_count().await.ok(),
                _ => None,
            }
        },
    );
    // Where the live news stood when this page was drawn: the listener follows from there.
    #[cfg(feature = "ssr")]
    let since = crate::functions::live::live_position();
    #[cfg(not(feature = "ssr"))]
    let since = None::<String>;
    view! {
        <header class="topbar" data-live-since=since>
            <Navigation/>
            <Countdowns/>
            <a class="brand" href="/executions">"Gatehouse"</a>
            <Suspense fallback=|| view! { <nav aria-label="Sections"></nav> }>
                {move || Suspend::new(async move {
                    let identity = session.0.await.ok().flatten();
                    let pending = pending.await;
                    let listen = identity.is_some().then(|| view! { <LiveUpdates/> });
                    view! {
                        <SectionLinks identity=identity.clone() pending/>
                        <UserMenu identity/>
                        {listen}
                    }
                })}
            </Suspense>
            // Last, so that once it is enabled every island before it is awake.
            <ThemeToggle/>
        </header>
    }
}

#[component]
fn SectionLinks(identity: Option<Identity>, pending: Option<usize>) -> impl IntoView {
    view! {
        <nav aria-label="Sections">
            <ul>
                {Section::ALL
                    .into_iter()
                    .filter(|section| section.visible_to(identity.as_ref()))
                    .map(|section| {
                        // Drawn even at zero (hidden), so live news can show it.
                        let badge = (section == Section::Approvals)
                            .then_some(pending)
                            .flatten()
                            .map(|n| {
                                let label = format!("{n} pending");
                                view! {
                                    <span
                                        class="badge"
                                        data-testid="approvals-badge"
                                        data-pending-count=""
                                        title=label
                                        hidden=n == 0
                                    >
                                        {n}
                                    </span>
                                }
                            });
                        view! {
                            <li>
                                <A href=section.path()>{section.label()} {badge}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

#[component]
fn UserMenu(identity: Option<Identity>) -> impl IntoView {
    match identity {
        Some(identity) => view! {
            <div class="user-menu">
                <a href="/me" data-testid="nav-user">{identity.username}</a>
                // A form, not a link: signing out changes state, and GET never does.
                <form method="post" action="/auth/signout">
                    <button type="submit" class="link-button" data-testid="sign-out">
                        "Sign out"
                    </button>
                </form>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="user-menu">
                <a href="/signin" data-testid="nav-sign-in">"Sign in"</a>
            </div>
        }
        .into_any(),
    }
}
