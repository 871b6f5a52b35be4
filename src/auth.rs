//! Bearer tokens: JWTs carrying the partner and the role. HS256 with a shared secret, and
//! optionally RS256 with a public key for tokens minted elsewhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::customer::{Caller, Role};
use crate::domain::ids::PartnerId;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// Absent only for `catalog_admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

/// Tokens verified at most this long ago are kept; past that many, all are forgotten at once.
const MAX_VERIFIED: usize = 10_000;
/// Seconds a token is accepted past its `exp`, for clock skew.
const LEEWAY_SECONDS: i64 = 30;

#[derive(Clone)]
pub struct TokenKeys {
    hs256: (EncodingKey, DecodingKey),
    rs256: Option<DecodingKey>,
    /// Tokens already verified, with their caller and the last second they are valid: a
    /// signature checks the same every time, so a client that sends the same token on every
    /// call (as clients do) pays for parsing and HMAC once, and only `exp` is checked again.
    verified: Arc<Mutex<Verified>>,
}

/// Token -> (its caller, the last second it is accepted).
type Verified = HashMap<Box<str>, (Caller, i64)>;

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("rs256", &self.rs256.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(hs256_secret: &str, rs256_public_pem: Option<&[u8]>) -> Result<Self, String> {
        if hs256_secret.len() < 16 {
            return Err("the JWT secret must be at least 16 bytes".into());
        }
        let rs256 = rs256_public_pem
            .map(|pem| {
                DecodingKey::from_rsa_pem(pem).map_err(|e| format!("bad RS256 public key: {e}"))
            })
            .transpose()?;
        Ok(Self {
            hs256: (
                EncodingKey::from_secret(hs256_secret.as_bytes()),
                DecodingKey::from_secret(hs256_secret.as_bytes()),
            ),
            rs256,
            verified: Arc::default(),
        })
    }

    /// Mints an HS256 token (the `token` subcommand and the tests).
    pub fn mint(
        &self,
        user: &str,
        partner: Option<PartnerId>,
        role: Role,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.to_owned(),
            partner_id: partner.map(|p| p.to_string()),
            role: role.as_str().to_owned(),
            iat: now,
            exp: now + ttl.num_seconds(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.hs256.0).map_err(|e| e.to_string())
    }

    /// Verifies `Bearer <jwt>` and says who is calling.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Caller, DomainError> {
        let unauthenticated = |why: &str| DomainError::Unauthenticated(why.to_owned());
        let header = authorization.ok_or_else(|| {
            unauthenticated("missing authorization metadata: send `authorization: Bearer <token>`")
        })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| unauthenticated("authorization must be `Bearer <token>`"))?
            .trim();
        let now = Utc::now().timestamp();
        if let Some(&(caller, valid_until)) = self.verified().get(token)
            && now <= valid_until
        {
            return Ok(caller);
        }
        let (caller, exp) = self.verify_token(token)?;
        let mut verified = self.verified();
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(token.into(), (caller, exp.saturating_add(LEEWAY_SECONDS)));
        Ok(caller)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, Verified> {
        // Each change is one insert or a clear: a panicking holder leaves the map whole.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks the token's signature and claims: its caller and `exp`.
    fn verify_token(&self, token: &str) -> Result<(Caller, i64), DomainError> {
        let unauthenticated = |why: &str| DomainError::Unauthenticated(why.to_owned());
        let alg = decode_header(token)
            .map_err(|_| unauthenticated("the token is not a JWT"))?
            .alg;
        let key = match alg {
            Algorithm::HS256 => &self.hs256.1,
            Algorithm::RS256 => self
                .rs256
                .as_ref()
                .ok_or_else(|| unauthenticated("RS256 tokens are not accepted by this server"))?,
            _ => return Err(unauthenticated("the token's algorithm is not accepted")),
        };
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = LEEWAY_SECONDS as u64;
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|e| unauthenticated(&format!("invalid token: {e}")))?
            .claims;
        let role = Role::parse(&claims.role)
            .ok_or_else(|| unauthenticated("the token's role is unknown"))?;
        let partner = claims
            .partner_id
            .as_deref()
            .map(|p| {
                PartnerId::parse("partner_id", p)
                    .map_err(|_| unauthenticated("the token's partner_id is not a UUID"))
            })
            .transpose()?;
        match (role, partner) {
            (Role::CatalogAdmin, _) | (_, Some(_)) => Ok((Caller { partner, role }, claims.exp)),
            (_, None) => Err(unauthenticated(
                "a partner role's token must carry partner_id",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let keys = TokenKeys::new("0123456789abcdef0123", None).unwrap();
        let partner = PartnerId::new();
        let token = keys
            .mint(
                "ana",
                Some(partner),
                Role::SalesAgent,
                chrono::Duration::hours(1),
            )
            .unwrap();
        let caller = keys.verify(Some(&format!("Bearer {token}"))).unwrap();
        // Kept once verified; a token that differs in one byte is verified on its own (and
        // fails).
        assert_eq!(
            keys.verify(Some(&format!("Bearer {token}"))).unwrap(),
            caller
        );
        let mut forged = token.clone();
        let last = if forged.pop() == Some('A') { 'B' } else { 'A' };
        forged.push(last);
        assert!(keys.verify(Some(&format!("Bearer {forged}"))).is_err());
        assert_eq!(
            caller,
            Caller {
                partner: Some(partner),
                role: Role::SalesAgent
            }
        );

        let other = TokenKeys::new("another-secret-of-16+", None).unwrap();
        assert!(other.verify(Some(&format!("Bearer {token}"))).is_err());
        assert!(keys.verify(None).is_err());
        assert!(keys.verify(Some(&token)).is_err());
        let expired = keys
            .mint(
                "ana",
                Some(partner),
                Role::SalesAgent,
                chrono::Duration::hours(-1),
            )
            .unwrap();
        assert!(keys.verify(Some(&format!("Bearer {expired}"))).is_err());
        let no_partner = keys
            .mint("ana", None, Role::SalesAgent, chrono::Duration::hours(1))
            .unwrap();
        assert!(keys.verify(Some(&format!("Bearer {no_partner}"))).is_err());
    }
}
