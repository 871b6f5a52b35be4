//! Bearer tokens: JWTs carrying the partner and the role. HS256 with a shared secret, and
//! optionally RS256 with a public key for tokens minted elsewhere.

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

#[derive(Clone)]
pub struct TokenKeys {
    hs256: (EncodingKey, DecodingKey),
    rs256: Option<DecodingKey>,
}

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
        validation.leeway = 30;
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
            (Role::CatalogAdmin, _) | (_, Some(_)) => Ok(Caller { partner, role }),
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
