//! Facts about the client that sent a request, for throttling and audit records.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The client's address: the connection's, or with trusted proxies in front the one the
/// outermost proxy saw (see [`find_client_address`]). Unspecified when neither is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// As [`find_client_address`] put it on the request; the connection's address when the
    /// layer did not run.
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddress {
        extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or_else(|| {
                ClientAddress(
                    extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|ConnectInfo(address)| address.ip())
                        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                )
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

/// The address the client connected from, given how many proxies in front of the server
/// append to `X-Forwarded-For`. Each proxy appends the address it received the request from,
/// so with `trusted` proxies the client is the `trusted`-th entry from the right; entries
/// further left were written by the client itself and prove nothing. With fewer entries than
/// trusted proxies (a request that did not pass them all), the leftmost one is the earliest a
/// trusted proxy wrote. An entry that is not an address leaves the connection's address.
pub fn client_address(connection: IpAddr, headers: &HeaderMap, trusted: u8) -> IpAddr {
    if trusted == 0 {
        return connection;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let Some(index) = entries.len().checked_sub(1) else {
        return connection;
    };
    let chosen = index.saturating_sub(usize::from(trusted) - 1);
    entries
        .get(chosen)
        .and_then(|entry| entry.parse::<IpAddr>().ok())
        .unwrap_or(connection)
}

/// Middleware: puts the request's [`ClientAddress`] on it once, for every later reader.
pub async fn find_client_address(trusted: u8, mut request: Request<Body>, next: Next) -> Response {
    let connection = ClientAddress::of(request.extensions()).0;
    let address = client_address(connection, request.headers(), trusted);
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

/// The request id the request-id layer assigned, for correlating events with request logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-")
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKET: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().expect("header value"));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(client_address(SOCKET, &headers, 0), SOCKET);
    }

    #[test]
    fn one_trusted_proxy_means_the_rightmost_entry() {
        // The client forged the first entry; the proxy appended what it saw.
        let headers = forwarded(&["198.51.100.1, 203.0.113.7"]);
        assert_eq!(client_address(SOCKET, &headers, 1), ip("203.0.113.7"));
    }

    #[test]
    fn two_trusted_proxies_count_from_the_right_across_header_lines() {
        let headers = forwarded(&["198.51.100.1, 203.0.113.7", "10.1.2.3"]);
        assert_eq!(client_address(SOCKET, &headers, 2), ip("203.0.113.7"));
        let headers = forwarded(&["2001:db8::1"]);
        assert_eq!(client_address(SOCKET, &headers, 2), ip("2001:db8::1"));
    }

    #[test]
    fn a_missing_or_unreadable_header_leaves_the_connection_address() {
        assert_eq!(client_address(SOCKET, &HeaderMap::new(), 1), SOCKET);
        let headers = forwarded(&["unknown"]);
        assert_eq!(client_address(SOCKET, &headers, 1), SOCKET);
    }
}
