//! Bearer tokens: JWTs carrying the partner and the role. HS256 with a shared secret; RS256 with
//! one PEM public key; and the keys of a JSON Web Key Set file, picked by the token's `kid` and
//! re-read when the file changes, so an identity provider's keys rotate without a restart.

mod claims;
mod jwks;
mod policy;
mod verified;
mod verify;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{DecodingKey, EncodingKey};

pub use claims::Claims;
pub use policy::TokenPolicy;

use crate::config::Settings;
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use jwks::Jwks;
use verified::VerifiedTokens;

/// Who a verified token speaks for: the caller, and a bounded key for its user (a hash of the
/// partner and `sub`, never the `sub` itself) for per-user quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    pub caller: Caller,
    pub user: UserKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(u64);

#[derive(Clone)]
pub struct TokenKeys {
    hs256: (EncodingKey, DecodingKey),
    rs256: Option<DecodingKey>,
    jwks: Option<Arc<Jwks>>,
    policy: Arc<TokenPolicy>,
    /// Seeds the user-key hash, per process: a `sub` chosen to collide with another user's
    /// key cannot be computed ahead.
    user_seed: u64,
    /// Tokens already verified, with who they speak for and the last second they are valid.
    verified: Arc<VerifiedTokens>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("rs256", &self.rs256.is_some())
            .field("jwks", &self.jwks.as_ref().map(|j| &j.path))
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn unauthenticated(why: &str) -> DomainError {
    DomainError::Unauthenticated(why.to_owned())
}

impl TokenKeys {
    /// HS256 with `hs256_secret`, RS256 with an optional PEM public key; the default policy.
    pub fn new(hs256_secret: &str, rs256_public_pem: Option<&[u8]>) -> Result<Self, String> {
        if hs256_secret.len() < 16 {
            return Err("the JWT secret must be at least 16 bytes".into());
        }
        let rs256 = rs256_public_pem
            .map(|pem| {
                DecodingKey::from_rsa_pem(pem).map_err(|e| format!("bad RS256 public key: {e}"))
            })
            .transpose()?;
        let seed = uuid::Uuid::new_v4().as_u64_pair().0;
        Ok(Self {
            hs256: (
                EncodingKey::from_secret(hs256_secret.as_bytes()),
                DecodingKey::from_secret(hs256_secret.as_bytes()),
            ),
            rs256,
            jwks: None,
            policy: Arc::default(),
            user_seed: seed,
            verified: Arc::default(),
        })
    }

    /// The keys and the policy the settings name (reads the PEM and JWKS files).
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let pem = settings
            .jwt_rs256_public_key
            .as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|e| {
                    format!("cannot read jwt_rs256_public_key {}: {e}", path.display())
                })
            })
            .transpose()?;
        let keys = Self::new(&settings.jwt_secret, pem.as_deref())?
            .with_policy(TokenPolicy::from_settings(settings));
        match &settings.jwt_jwks_file {
            Some(path) => keys.with_jwks_file(path),
            None => Ok(keys),
        }
    }

    pub fn with_policy(mut self, policy: TokenPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Also accepts the keys of the JSON Web Key Set in `path` (it must read now).
    pub fn with_jwks_file(mut self, path: &Path) -> Result<Self, String> {
        self.jwks = Some(Arc::new(Jwks::load(path)?));
        Ok(self)
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// Verifies `Bearer <jwt>` and says who is calling.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Caller, DomainError> {
        self.authenticate(authorization).map(|a| a.caller)
    }

    /// Verifies `Bearer <jwt>` (from the cache when it was verified before) and says who is
    /// calling.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Authenticated, DomainError> {
        let token = bearer(authorization)?;
        match self.cached(token) {
            Some(found) => Ok(found),
            None => self.verify_new(token),
        }
    }
}

/// The token of `Bearer <token>`.
pub fn bearer(authorization: Option<&str>) -> Result<&str, DomainError> {
    let header = authorization.ok_or_else(|| {
        unauthenticated("missing authorization metadata: send `authorization: Bearer <token>`")
    })?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthenticated("authorization must be `Bearer <token>`"))
}
