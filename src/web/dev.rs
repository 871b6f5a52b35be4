//! The console's development sign-in: what the `token` subcommand mints, over HTTP, for a
//! browser on the server's own machine. It exists only while the public development secret
//! is in use (which never serves off loopback) and answers only loopback peers; anywhere else
//! its paths are the console's 404.
//!
//! - `GET /dev/partners`: `[{"key","id","name","country","currency","gcc"}]`, for the picker.
//! - `GET /dev/token?partner=us&role=sales_agent[&user=ana]`: `{"token","expires_at",...}`;
//!   the platform roles (`catalog_admin`, `operator`) take no partner.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use serde_json::json;
use tonic::body::Body;

use crate::auth::TokenKeys;
use crate::config::is_loopback;
use crate::domain::customer::{Role, parse_partner_key};
use crate::store::Store;

/// The paths this module answers.
pub const PREFIX: &str = "/dev/";
/// A console session's token lives this long (less when `jwt_max_lifetime_seconds` is less).
const LIFETIME_SECONDS: u64 = 8 * 3600;
/// The picker lists at most this many partners (the demo has four).
const MAX_PARTNERS: u64 = 200;

#[derive(Clone)]
pub struct DevSignIn {
    keys: Arc<TokenKeys>,
    store: Store,
}

impl DevSignIn {
    /// Only with the development secret: with any other the sign-in does not exist.
    pub fn new(jwt_secret: &str, keys: Arc<TokenKeys>, store: Store) -> Option<Self> {
        (jwt_secret == crate::config::DEV_JWT_SECRET).then_some(Self { keys, store })
    }

    /// The answer to `GET /dev/...` from `peer`; `None` when it is not one of this module's
    /// (the console answers it: 404).
    pub async fn answer(
        &self,
        peer: Option<SocketAddr>,
        uri: &http::Uri,
    ) -> Option<Response<Body>> {
        if !serves(peer) {
            return None;
        }
        let query = uri.query().unwrap_or("");
        match uri.path() {
            "/dev/token" => Some(self.token(query).await),
            "/dev/partners" => Some(self.partners().await),
            _ => None,
        }
    }

    async fn token(&self, query: &str) -> Response<Body> {
        let (mut partner, mut role, mut user) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "partner" => partner = Some(value),
                "role" => role = Some(value),
                "user" => user = Some(value),
                _ => return refused(&format!("unknown parameter {:?}", cut(name))),
            }
        }
        let Some(role) = role.and_then(Role::parse) else {
            let names: Vec<&str> = Role::ALL.iter().map(Role::as_str).collect();
            return refused(&format!("role must be one of {}", names.join(", ")));
        };
        let user = user.unwrap_or("console-user");
        if user.is_empty()
            || user.len() > 64
            || !user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
        {
            return refused("user must be 1 to 64 of a-z, A-Z, 0-9, '-', '_', '.', '@'");
        }
        let partner = match (partner, role.is_platform()) {
            (Some(_), true) => return refused(&format!("the {role} role takes no partner")),
            (None, true) => None,
            (None, false) => return refused(&format!("the {role} role needs a partner key")),
            (Some(key), false) => {
                let Ok(key) = parse_partner_key("partner", key) else {
                    return refused("partner must be a partner's key (us, de, sk, gcc)");
                };
                match self.store.partner_by_key(&key).await {
                    Ok(Some(record)) => Some(record.partner),
                    Ok(None) => return refused(&format!("no partner has the key {key:?}")),
                    Err(e) => return failed(&e.to_string()),
                }
            }
        };
        let lifetime = self
            .keys
            .policy()
            .max_lifetime
            .map_or(LIFETIME_SECONDS, |max| max.min(LIFETIME_SECONDS));
        let minted = self.keys.mint_with_expiry(
            user,
            partner.as_ref().map(|p| p.id),
            role,
            chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX)),
        );
        match minted {
            Ok((token, expires_at)) => json_answer(
                StatusCode::OK,
                &json!({
                    "token": token,
                    "expires_at": expires_at,
                    "role": role.as_str(),
                    "user": user,
                    "partner_id": partner.as_ref().map(|p| p.id.to_string()),
                    "partner_name": partner.as_ref().map(|p| p.name.clone()),
                }),
            ),
            Err(e) => failed(&e),
        }
    }

    async fn partners(&self) -> Response<Body> {
        match self.store.list_partners(None, MAX_PARTNERS).await {
            Ok(records) => {
                let partners: Vec<_> = records
                    .iter()
                    .map(|r| {
                        json!({
                            "key": r.key,
                            "id": r.partner.id.to_string(),
                            "name": r.partner.name,
                            "country": r.partner.country.to_string(),
                            "currency": r.partner.currency.code(),
                            "gcc": r.partner.gcc,
                        })
                    })
                    .collect();
                json_answer(StatusCode::OK, &json!(partners))
            }
            Err(e) => failed(&e.to_string()),
        }
    }
}

/// Only a peer on this machine is answered.
fn serves(peer: Option<SocketAddr>) -> bool {
    peer.is_some_and(|p| is_loopback(p.ip()))
}

fn cut(text: &str) -> &str {
    let mut end = text.len().min(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn refused(message: &str) -> Response<Body> {
    json_answer(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

fn failed(cause: &str) -> Response<Body> {
    tracing::error!(cause, "the development sign-in failed");
    json_answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({ "error": "the token could not be made (see the server's log)" }),
    )
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::new(http_body_util::Full::new(Bytes::from(
        value.to_string(),
    ))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_peer_on_this_machine_is_answered() {
        assert!(serves(Some("127.0.0.1:5000".parse().unwrap())));
        assert!(serves(Some("[::1]:5000".parse().unwrap())));
        assert!(serves(Some("[::ffff:127.0.0.1]:5000".parse().unwrap())));
        assert!(!serves(Some("10.1.2.3:5000".parse().unwrap())));
        assert!(!serves(Some("[2001:db8::1]:5000".parse().unwrap())));
        assert!(!serves(None));
    }
}
