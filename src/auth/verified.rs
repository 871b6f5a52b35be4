//! The verified-token cache: a signature and the claims check the same every time, so a
//! client that sends the same token on every call (as clients do) pays for parsing and the
//! signature once, and only `exp` is checked again (`nbf` and the lifetime held when it was
//! verified and still do). Invalidated when the JWKS key set reloads (a token of a key taken
//! out is verified again, and refused); emptied whole past `MAX_VERIFIED` tokens.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::Utc;

use super::{Authenticated, TokenKeys};
use crate::domain::DomainError;

/// Tokens cached at most; past that many, all are forgotten at once.
const MAX_VERIFIED: usize = 10_000;

/// Token -> (who it speaks for, the last second it is accepted).
#[derive(Debug, Default)]
pub(super) struct VerifiedTokens(Mutex<HashMap<Box<str>, (Authenticated, i64)>>);

impl VerifiedTokens {
    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, (Authenticated, i64)>> {
        // Each change is one insert or a clear: a panicking holder leaves the map whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

impl TokenKeys {
    /// Who `token` speaks for, if it was verified before and has not expired since.
    pub fn cached(&self, token: &str) -> Option<Authenticated> {
        self.refresh_jwks(false);
        let now = Utc::now().timestamp();
        match self.verified.lock().get(token) {
            Some(&(found, valid_until)) if now <= valid_until => Some(found),
            _ => None,
        }
    }

    /// Verifies a token not in the cache, and caches it once verified.
    pub fn verify_new(&self, token: &str) -> Result<Authenticated, DomainError> {
        let (found, exp) = self.verify_token(token)?;
        let mut verified = self.verified.lock();
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        let leeway = i64::try_from(self.policy.leeway).unwrap_or(i64::MAX);
        verified.insert(token.into(), (found, exp.saturating_add(leeway)));
        Ok(found)
    }

    /// Re-reads the JWKS file if it changed (`force`: for an unknown `kid`); a new key set
    /// empties the cache.
    pub(super) fn refresh_jwks(&self, force: bool) -> bool {
        let reloaded = self.jwks.as_ref().is_some_and(|jwks| jwks.refresh(force));
        if reloaded {
            self.verified.clear();
        }
        reloaded
    }
}
