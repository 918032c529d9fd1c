//! Live updates: `GET /events`, a server-sent event stream that tells open pages
//! when an execution changes, an approval opens or a decision closes one, so they fetch again.
//!
//! A watcher polls the pipeline through its port while anyone listens (both adapters alike),
//! compares with what it saw last, and publishes the differences into a feed. The feed keeps
//! the last events in a ring, so a browser that reconnects with `Last-Event-ID` gets what it
//! missed; when what it missed is no longer there (or comes from an earlier process) it gets
//! `resync`, which tells the page to fetch everything again. Events are hints, never data:
//! a page always reads the truth through its server functions.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::control_plane::ControlPlane;
use app::models::pipeline::{ExecutionQuery, ExecutionStatus, Timestamp};
use app::state::Caller;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Events the feed remembers for reconnecting browsers.
const RING: usize = 1024;
/// Executions the watcher compares on each look (the newest).
const WATCHED: usize = 100;

/// One change, as a page is told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveEvent {
    /// Position in this process's feed, from 1.
    #[serde(skip)]
    pub seq: u64,
    /// `execution`, `approval` or `decision`; `endpoint`; `resync` (about nothing) when the
    /// watcher starts looking.
    #[serde(skip)]
    pub kind: &'static str,
    /// What the news is about: the execution's name (the endpoint's, for `endpoint`).
    pub execution: String,
    pub status: String,
    pub state: Option<String>,
    /// With `approval` and `decision`: how many approvals wait now, which open pages show
    /// in their navigation without asking again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
}

#[derive(Debug)]
pub struct LiveFeed {
    /// Identifies this process in event ids, so an id from before a restart is not
    /// mistaken for one of ours.
    boot: u64,
    ring: Mutex<Ring>,
    sender: broadcast::Sender<LiveEvent>,
}

#[derive(Debug, Default)]
struct Ring {
    next: u64,
    events: VecDeque<LiveEvent>,
}

/// Where a reconnecting browser resumes.
#[derive(Debug, PartialEq, Eq)]
enum Resume {
    /// Everything after this sequence number is still in the ring.
    After(u64),
    /// It missed more than the ring holds, or the id is not ours: fetch everything again.
    Resync,
}

impl LiveFeed {
    pub fn new() -> Arc<LiveFeed> {
        let boot = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let (sender, _) = broadcast::channel(RING);
        Arc::new(LiveFeed {
            boot,
            ring: Mutex::new(Ring {
                next: 1,
                events: VecDeque::new(),
            }),
            sender,
        })
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        // The ring is consistent after any panic in a holder: only pushes and pops.
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The id of the newest event published so far.
    pub fn position(&self) -> String {
        self.event_id(self.ring().next - 1)
    }

    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Appends an event and sends it to every open stream.
    pub fn publish(
        &self,
        kind: &'static str,
        execution: &str,
        status: &str,
        state: Option<String>,
        pending: Option<usize>,
    ) {
        let mut ring = self.ring();
        let event = LiveEvent {
            seq: ring.next,
            kind,
            execution: execution.to_string(),
            status: status.to_string(),
            state,
            pending,
        };
        ring.next += 1;
        if ring.events.len() == RING {
            ring.events.pop_front();
        }
        ring.events.push_back(event.clone());
        // Sent while the ring is locked, so a subscriber never sees an event twice or out of
        // order between its replay and the live stream.
        let _ = self.sender.send(event);
    }

    fn event_id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    fn resume(&self, last_event_id: Option<&str>) -> Resume {
        let ring = self.ring();
        let Some(text) = last_event_id else {
            // A first connection starts from now.
            return Resume::After(ring.next - 1);
        };
        let parsed = text
            .split_once('-')
            .and_then(|(boot, seq)| Some((boot.parse::<u64>().ok()?, seq.parse::<u64>().ok()?)));
        match parsed {
            Some((boot, seq)) if boot == self.boot && seq < ring.next => {
                let oldest = ring.events.front().map(|e| e.seq).unwrap_or(ring.next);
                if seq + 1 >= oldest {
                    Resume::After(seq)
                } else {
                    Resume::Resync
                }
            }
            _ => Resume::Resync,
        }
    }

    /// The stream for one browser: what it missed, then what comes.
    fn stream(
        self: &Arc<Self>,
        last_event_id: Option<&str>,
    ) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
        // Subscribe before reading the ring: nothing published in between is lost.
        let receiver = self.sender.subscribe();
        let resume = self.resume(last_event_id);
        let (first, after) = match resume {
            Resume::After(seq) => {
                let ring = self.ring();
                let missed: Vec<Event> = ring
                    .events
                    .iter()
                    .filter(|e| e.seq > seq)
                    .map(|e| self.sse(e))
                    .collect();
                let after = ring.events.back().map(|e| e.seq).unwrap_or(seq).max(seq);
                (missed, after)
            }
            Resume::Resync => {
                let next = self.ring().next;
                (vec![self.resync(next - 1)], next - 1)
            }
        };
        let feed = Arc::clone(self);
        let live = stream::unfold(
            (receiver, after, feed),
            |(mut receiver, after, feed)| async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if event.seq <= after => continue,
                        Ok(event) => {
                            let sse = feed.sse(&event);
                            return Some((Ok(sse), (receiver, event.seq, feed)));
                        }
                        // Too slow a reader: it lost events, so it must fetch again.
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            let next = feed.ring().next;
                            let sse = feed.resync(next - 1);
                            return Some((Ok(sse), (receiver, next - 1, feed)));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        );
        stream::iter(first.into_iter().map(Ok)).chain(live)
    }

    fn sse(&self, event: &LiveEvent) -> Event {
        Event::default()
            .id(self.event_id(event.seq))
            .event(event.kind)
            .data(serde_json::to_string(event).unwrap_or_else(|_| "{}".into()))
    }

    fn resync(&self, seq: u64) -> Event {
        Event::default()
            .id(self.event_id(seq))
            .event("resync")
            .data("{}")
    }
}

impl app::state::LiveNews for LiveFeed {
    fn position(&self) -> String {
        LiveFeed::position(self)
    }
}

/// Where a first connection follows from: the position the page was rendered at.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    since: Option<String>,
}

/// `GET /events` (any signed-in user): the live stream. A reconnection resumes after its
/// `Last-Event-ID`; a first connection after `?since=` (the position its page was rendered
/// at), else from now.
pub async fn events(
    State(feed): State<Arc<LiveFeed>>,
    caller: Option<Extension<Caller>>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    if caller
        .and_then(|Extension(c)| c.identity().cloned())
        .is_none()
    {
        return (StatusCode::UNAUTHORIZED, "You need to sign in to do this.").into_response();
    }
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.since);
    Sse::new(feed.stream(last.as_deref()))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What the watcher saw last.
#[derive(Debug, Default, PartialEq)]
struct Snapshot {
    executions: BTreeMap<String, (ExecutionStatus, Option<String>)>,
    pending: BTreeSet<String>,
    /// Each endpoint's status and when it last changed.
    endpoints: BTreeMap<String, (String, Option<Timestamp>)>,
}

/// Reads what pages show: the newest executions, their current states, pending approvals,
/// the endpoints' statuses.
async fn look(pipeline: &dyn ControlPlane) -> Option<Snapshot> {
    let page = pipeline
        .list_executions(&ExecutionQuery {
            max_results: WATCHED,
            ..ExecutionQuery::default()
        })
        .await
        .ok()?;
    let states = pipeline.current_states(&page.executions).await;
    let pending = pipeline.pending_approvals().await.ok()?;
    let endpoints = pipeline.endpoint_statuses().await.ok()?;
    Some(Snapshot {
        endpoints: endpoints
            .into_iter()
            .map(|e| (e.name, (e.status, e.modified)))
            .collect(),
        executions: page
            .executions
            .into_iter()
            .zip(states)
            .map(|(e, state)| (e.name, (e.status, state)))
            .collect(),
        pending: pending.into_iter().map(|p| p.execution.name).collect(),
    })
}

/// Publishes what changed between two looks.
fn publish_changes(feed: &LiveFeed, before: &Snapshot, now: &Snapshot) {
    for (name, (status, state)) in &now.executions {
        if before.executions.get(name) != Some(&(*status, state.clone())) {
            feed.publish("execution", name, status.as_str(), state.clone(), None);
        }
    }
    let pending = Some(now.pending.len());
    for name in now.pending.difference(&before.pending) {
        feed.publish("approval", name, "PENDING", None, pending);
    }
    for name in before.pending.difference(&now.pending) {
        let status = now
            .executions
            .get(name)
            .map(|(s, _)| s.as_str())
            .unwrap_or("UNKNOWN");
        feed.publish("decision", name, status, None, pending);
    }
    for (name, seen) in &now.endpoints {
        if before.endpoints.get(name) != Some(seen) {
            feed.publish("endpoint", name, &seen.0, None, None);
        }
    }
    for name in before.endpoints.keys() {
        if !now.endpoints.contains_key(name) {
            feed.publish("endpoint", name, "Deleted", None, None);
        }
    }
}

/// Watches the pipeline every `every` while someone listens. Holds both weakly: it ends when
/// the server that owns them is dropped (and never keeps an engine's database locked).
pub fn spawn_watcher(feed: &Arc<LiveFeed>, pipeline: &Arc<dyn ControlPlane>, every: Duration) {
    let feed = Arc::downgrade(feed);
    let pipeline = Arc::downgrade(pipeline);
    tokio::spawn(async move {
        let mut seen: Option<Snapshot> = None;
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let (Some(feed), Some(pipeline)) = (feed.upgrade(), pipeline.upgrade()) else {
                return;
            };
            if feed.listeners() == 0 {
                // Nobody to tell: start afresh when someone comes.
                seen = None;
                continue;
            }
            let Some(now) = look(pipeline.as_ref()).await else {
                continue;
            };
            match &seen {
                Some(before) => publish_changes(&feed, before, &now),
                // Watching starts only now: what changed between a page's rendering and this
                // first look was never compared, so whoever listens looks again.
                None => feed.publish("resync", "", "", None, None),
            }
            seen = Some(now);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(
        executions: &[(&str, ExecutionStatus, Option<&str>)],
        pending: &[&str],
    ) -> Snapshot {
        Snapshot {
            executions: executions
                .iter()
                .map(|(n, s, st)| (n.to_string(), (*s, st.map(str::to_string))))
                .collect(),
            pending: pending.iter().map(|p| p.to_string()).collect(),
            endpoints: BTreeMap::new(),
        }
    }

    fn kinds(feed: &LiveFeed) -> Vec<(&'static str, String)> {
        feed.ring()
            .events
            .iter()
            .map(|e| (e.kind, e.execution.clone()))
            .collect()
    }

    #[test]
    fn changes_become_events() {
        let feed = LiveFeed::new();
        let before = snapshot(&[("a", ExecutionStatus::Running, Some("Train"))], &[]);
        let after = snapshot(
            &[
                ("a", ExecutionStatus::Running, Some("Approve")),
                ("b", ExecutionStatus::Running, None),
            ],
            &["a"],
        );
        publish_changes(&feed, &before, &after);
        assert_eq!(
            kinds(&feed),
            vec![
                ("execution", "a".into()),
                ("execution", "b".into()),
                ("approval", "a".into())
            ]
        );
        let decided = snapshot(
            &[
                ("a", ExecutionStatus::Succeeded, None),
                ("b", ExecutionStatus::Running, None),
            ],
            &[],
        );
        publish_changes(&feed, &after, &decided);
        assert_eq!(
            kinds(&feed)[3..],
            [("execution", "a".into()), ("decision", "a".into())]
        );
        // Opening and closing a wait carry how many wait afterwards; other news does not.
        let counts: Vec<Option<usize>> = feed.ring().events.iter().map(|e| e.pending).collect();
        assert_eq!(counts, [None, None, Some(1), None, Some(0)]);
        publish_changes(&feed, &decided, &decided);
        assert_eq!(feed.ring().events.len(), 5, "nothing new, nothing sent");
    }

    #[test]
    fn an_endpoint_changing_or_going_is_news_about_it() {
        let feed = LiveFeed::new();
        let with = |entries: &[(&str, &str, i64)]| Snapshot {
            endpoints: entries
                .iter()
                .map(|(n, s, t)| (n.to_string(), (s.to_string(), Some(Timestamp(*t)))))
                .collect(),
            ..Snapshot::default()
        };
        let serving = with(&[("iris-serving", "InService", 1), ("old", "InService", 1)]);
        let updating = with(&[("iris-serving", "Updating", 2), ("old", "InService", 1)]);
        publish_changes(&feed, &serving, &updating);
        assert_eq!(kinds(&feed), vec![("endpoint", "iris-serving".into())]);
        // A rollback that lands back on InService is news too: the time moved.
        let rolled = with(&[("iris-serving", "InService", 3), ("old", "InService", 1)]);
        publish_changes(&feed, &updating, &rolled);
        let deleted = with(&[("iris-serving", "InService", 3)]);
        publish_changes(&feed, &rolled, &deleted);
        assert_eq!(
            kinds(&feed)[1..],
            [
                ("endpoint", "iris-serving".into()),
                ("endpoint", "old".into())
            ]
        );
        assert_eq!(feed.ring().events[2].status, "Deleted");
    }

    #[test]
    fn reconnects_resume_after_their_last_event_or_resync() {
        let feed = LiveFeed::new();
        for i in 0..3 {
            feed.publish("execution", &format!("e{i}"), "RUNNING", None, None);
        }
        let id = |seq| feed.event_id(seq);
        assert_eq!(feed.resume(None), Resume::After(3));
        assert_eq!(feed.resume(Some(&id(1))), Resume::After(1));
        assert_eq!(
            feed.resume(Some("123-1")),
            Resume::Resync,
            "another process"
        );
        assert_eq!(feed.resume(Some("garbage")), Resume::Resync);
        assert_eq!(
            feed.resume(Some(&id(99))),
            Resume::Resync,
            "from the future"
        );
        for i in 0..RING {
            feed.publish("execution", &format!("f{i}"), "RUNNING", None, None);
        }
        assert_eq!(
            feed.resume(Some(&id(1))),
            Resume::Resync,
            "fell out of the ring"
        );
        assert_eq!(
            feed.resume(Some(&id(3 + RING as u64 - 1))),
            Resume::After(3 + RING as u64 - 1)
        );
    }
}
