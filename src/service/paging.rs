//! AIP-158 paging: page sizes and opaque, signed page tokens bound to the query that made them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::DomainError;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;
/// Longer than any token this server makes (a MAC, a hash and the last key, in base64):
/// a longer one is refused before it is decoded.
pub const MAX_PAGE_TOKEN_LEN: usize = 1024;

/// 0 means the default; above the maximum is clamped; negative is refused.
pub fn page_size(requested: i32) -> Result<usize, DomainError> {
    match requested {
        n if n < 0 => Err(DomainError::invalid(
            "page_size",
            "OUT_OF_RANGE",
            "page_size may not be negative",
        )),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as usize).min(MAX_PAGE_SIZE)),
    }
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// Signs page tokens with a server secret (shared by replicas), so a forged or edited token,
/// or one made by another listing or other filters, is refused.
#[derive(Clone)]
pub struct PageTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens")
    }
}

fn invalid_token(why: &str) -> DomainError {
    DomainError::invalid("page_token", "INVALID_PAGE_TOKEN", why)
}

impl PageTokens {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: [b"page-token:".as_slice(), secret].concat(),
        }
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => return Vec::new(),
        };
        mac.update(payload);
        mac.finalize().into_bytes()[..16].to_vec()
    }

    /// A token resuming after `last_key` for the query identified by `query`.
    pub fn encode(&self, query: &str, last_key: &str) -> String {
        let payload = format!(
            "{:016x}|{last_key}",
            xxhash_rust::xxh3::xxh3_64(query.as_bytes())
        );
        let mut bytes = self.mac(payload.as_bytes());
        bytes.extend_from_slice(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Cuts a page of at most `limit` from `items`, which may run past the page (stores fetch
    /// `limit + 1` rows to know there is more); the token resumes after the last item's key.
    pub fn page<T>(
        &self,
        query: &str,
        limit: usize,
        items: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> String,
    ) -> Page<T> {
        let mut items = items.into_iter();
        let page: Vec<T> = items.by_ref().take(limit).collect();
        let next_page_token = match (items.next(), page.last()) {
            (Some(_), Some(last)) => self.encode(query, &key(last)),
            _ => String::new(),
        };
        Page {
            items: page,
            next_page_token,
        }
    }

    /// The key to resume after, if `token` is set; refuses tokens not made by this server for
    /// this very query.
    pub fn decode(&self, query: &str, token: &str) -> Result<Option<String>, DomainError> {
        if token.is_empty() {
            return Ok(None);
        }
        if token.len() > MAX_PAGE_TOKEN_LEN {
            return Err(invalid_token(
                "page_token is not a token this server issued",
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid_token("page_token is not a token this server issued"))?;
        if bytes.len() < 16 + 17 || bytes[..16] != self.mac(&bytes[16..])[..] {
            return Err(invalid_token(
                "page_token is not a token this server issued",
            ));
        }
        let payload = std::str::from_utf8(&bytes[16..])
            .map_err(|_| invalid_token("page_token is corrupt"))?;
        let (hash, last_key) = payload
            .split_once('|')
            .ok_or_else(|| invalid_token("page_token is corrupt"))?;
        if hash != format!("{:016x}", xxhash_rust::xxh3::xxh3_64(query.as_bytes())) {
            return Err(invalid_token(
                "page_token belongs to a different query: send the same filters as the first page",
            ));
        }
        Ok(Some(last_key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resume_only_their_own_query() {
        let tokens = PageTokens::new(b"secret");
        let t = tokens.encode("products|US", "CFQ7TTC0LH18");
        assert_eq!(
            tokens.decode("products|US", &t).unwrap().as_deref(),
            Some("CFQ7TTC0LH18")
        );
        assert!(tokens.decode("products|DE", &t).is_err());
        assert!(PageTokens::new(b"other").decode("products|US", &t).is_err());
        assert!(tokens.decode("products|US", "garbage").is_err());
        let mut forged = t.clone();
        forged.pop();
        assert!(tokens.decode("products|US", &forged).is_err());
        assert_eq!(tokens.decode("q", "").unwrap(), None);
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(10_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }
}
