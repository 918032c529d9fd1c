//! The live news position a page is rendered at (server only): the page carries it, and its
//! listener follows the news from there (see `state::LiveNews`).

/// The newest live event's id now, if the server provides a feed.
pub fn live_position() -> Option<String> {
    crate::state::server_context()
        .ok()
        .map(|context| context.live.position())
}
