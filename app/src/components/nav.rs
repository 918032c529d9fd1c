use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::live::live_version;
use crate::components::session::use_session_user;
use crate::components::theme::ThemeToggle;
use crate::functions::approvals::pending_approval_count;
use crate::models::identity::Identity;
use crate::models::section::Section;

/// The bar at the top of every page: the name, the sections the caller's roles allow, who is
/// signed in, the theme switch.
#[component]
pub fn TopBar() -> impl IntoView {
    let session = use_session_user();
    // The badge's count is loaded here, outside the <Suspense> below: on the server it walks
    // its children up to three times, and a resource created inside would fetch each time.
    // Nobody signed in, nothing to count (and no refused call).
    let news = live_version(|| None);
    let signed_in = move || matches!(session.0.get(), Some(Ok(Some(_))));
    let pending = Resource::new(
        move || (news.get(), signed_in()),
        |(_, signed_in)| async move {
            if signed_in {
                pending_approval_count().await.ok()
            } else {
                None
            }
        },
    );
    view! {
        <header class="topbar">
            <a class="brand" href="/executions">"Gatehouse"</a>
            <Suspense fallback=|| view! { <nav aria-label="Sections"></nav> }>
                {move || Suspend::new(async move {
                    let identity = session.0.await.ok().flatten();
                    view! {
                        <SectionLinks identity=identity.clone() pending/>
                        <UserMenu identity/>
                    }
                })}
            </Suspense>
            <ThemeToggle/>
        </header>
    }
}

#[component]
fn SectionLinks(identity: Option<Identity>, pending: Resource<Option<usize>>) -> impl IntoView {
    view! {
        <nav aria-label="Sections">
            <ul>
                {Section::ALL
                    .into_iter()
                    .filter(|section| section.visible_to(identity.as_ref()))
                    .map(|section| {
                        let badge = (section == Section::Approvals).then(|| view! { <ApprovalBadge pending/> });
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

/// The number of pending approvals beside the Approvals link, kept current by live updates.
#[component]
fn ApprovalBadge(pending: Resource<Option<usize>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || {
                pending
                    .get()
                    .flatten()
                    .filter(|n| *n > 0)
                    .map(|n| {
                        let label = format!("{n} pending");
                        view! { <span class="badge" data-testid="approvals-badge" title=label>{n}</span> }
                    })
            }}
        </Transition>
    }
}
