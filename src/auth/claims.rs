//! The claims a token carries: as minted here, and as read from a presented token.

use chrono::Utc;
use jsonwebtoken::{Algorithm, Header, encode};
use serde::{Deserialize, Serialize};

use super::TokenKeys;
use crate::domain::customer::Role;
use crate::domain::ids::PartnerId;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// Absent only for the platform roles (`catalog_admin`, `operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

/// What `mint` signs: the claims, plus the issuer and audience when configured.
#[derive(Serialize)]
pub(super) struct MintedClaims<'a> {
    #[serde(flatten)]
    pub(super) claims: &'a Claims,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) aud: Option<&'a str>,
}

/// The claims read from a token being verified (`iss`, `aud`, `nbf` are checked by
/// `jsonwebtoken`); `iat` may be absent in tokens minted elsewhere.
#[derive(Deserialize)]
pub(super) struct PresentedClaims {
    pub(super) sub: String,
    #[serde(default)]
    pub(super) partner_id: Option<String>,
    pub(super) role: String,
    #[serde(default)]
    pub(super) iat: Option<i64>,
    pub(super) exp: i64,
}

impl TokenKeys {
    /// Mints an HS256 token (the `token` subcommand and the tests), with the configured issuer
    /// and audience; refuses a lifetime over the maximum.
    pub fn mint(
        &self,
        user: &str,
        partner: Option<PartnerId>,
        role: Role,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        self.mint_with_expiry(user, partner, role, ttl)
            .map(|(token, _)| token)
    }

    /// As `mint`, with the token's `exp` (Unix seconds).
    pub fn mint_with_expiry(
        &self,
        user: &str,
        partner: Option<PartnerId>,
        role: Role,
        ttl: chrono::Duration,
    ) -> Result<(String, i64), String> {
        if let Some(max) = self.policy.max_lifetime
            && ttl.num_seconds() > i64::try_from(max).unwrap_or(i64::MAX)
        {
            return Err(format!(
                "a token lives at most {max} s (jwt_max_lifetime_seconds); {} s asked",
                ttl.num_seconds()
            ));
        }
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.to_owned(),
            partner_id: partner.map(|p| p.to_string()),
            role: role.as_str().to_owned(),
            iat: now,
            exp: now + ttl.num_seconds(),
        };
        let minted = MintedClaims {
            claims: &claims,
            iss: self.policy.issuer.as_deref(),
            aud: self.policy.audience.as_deref(),
        };
        encode(&Header::new(Algorithm::HS256), &minted, &self.hs256.0)
            .map(|token| (token, claims.exp))
            .map_err(|e| e.to_string())
    }
}
