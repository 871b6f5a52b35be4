//! Verifying a token not seen before: the key for its algorithm and `kid`, the signature,
//! the policy's claims, and who it speaks for.

use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation, decode, decode_header};

use super::claims::PresentedClaims;
use super::{Authenticated, TokenKeys, UserKey, unauthenticated};
use crate::domain::DomainError;
use crate::domain::customer::{Caller, Role};
use crate::domain::ids::PartnerId;

/// Algorithms accepted from the JWKS: public-key ones only (the family must match the key's).
const JWKS_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

impl TokenKeys {
    /// The key for the token's algorithm and `kid`.
    fn key_for(&self, header: &Header) -> Result<DecodingKey, DomainError> {
        if header.alg == Algorithm::HS256 {
            return Ok(self.hs256.1.clone());
        }
        if let (Some(jwks), Some(kid)) = (&self.jwks, header.kid.as_deref()) {
            if !JWKS_ALGORITHMS.contains(&header.alg) {
                return Err(unauthenticated("the token's algorithm is not accepted"));
            }
            let found = jwks.key(kid, header.alg).or_else(|| {
                self.refresh_jwks(true);
                jwks.key(kid, header.alg)
            });
            if let Some(key) = found {
                return Ok(key);
            }
            if self.rs256.is_none() || header.alg != Algorithm::RS256 {
                return Err(unauthenticated(
                    "the token's key id (kid) is not in this server's key set",
                ));
            }
        }
        match header.alg {
            Algorithm::RS256 => self
                .rs256
                .clone()
                .ok_or_else(|| unauthenticated("RS256 tokens are not accepted by this server")),
            _ => Err(unauthenticated("the token's algorithm is not accepted")),
        }
    }

    /// Checks the token's signature and claims: its caller and `exp`.
    pub(super) fn verify_token(&self, token: &str) -> Result<(Authenticated, i64), DomainError> {
        let header = decode_header(token).map_err(|_| unauthenticated("the token is not a JWT"))?;
        let key = self.key_for(&header)?;
        let policy = &self.policy;
        let mut validation = Validation::new(header.alg);
        let mut required = vec!["exp", "sub"];
        validation.leeway = policy.leeway;
        validation.validate_nbf = true;
        if let Some(issuer) = &policy.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &policy.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // Identity providers always send an `aud`: unchecked unless one is configured.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let claims = decode::<PresentedClaims>(token, &key, &validation)
            .map_err(|e| unauthenticated(rejection(e.kind())))?
            .claims;
        if let Some(max) = policy.max_lifetime {
            let iat = claims.iat.ok_or_else(|| {
                unauthenticated("the token has no iat: this server limits a token's lifetime")
            })?;
            let leeway = i64::try_from(policy.leeway).unwrap_or(i64::MAX);
            if iat > Utc::now().timestamp().saturating_add(leeway) {
                return Err(unauthenticated("the token's iat is in the future"));
            }
            if claims.exp.saturating_sub(iat) > i64::try_from(max).unwrap_or(i64::MAX) {
                return Err(unauthenticated(&format!(
                    "the token lives longer than the {max} s this server accepts (exp - iat)"
                )));
            }
        }
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
        let caller = match (role, partner) {
            (Role::CatalogAdmin | Role::Operator, _) | (_, Some(_)) => Caller { partner, role },
            (_, None) => {
                return Err(unauthenticated(
                    "a partner role's token must carry partner_id",
                ));
            }
        };
        let user = UserKey(xxhash_rust::xxh3::xxh3_64_with_seed(
            format!(
                "{}\0{}",
                claims.partner_id.as_deref().unwrap_or(""),
                claims.sub
            )
            .as_bytes(),
            self.user_seed,
        ));
        Ok((Authenticated { caller, user }, claims.exp))
    }
}

/// Why a token was refused, in words that name no input.
fn rejection(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not accepted",
        ErrorKind::InvalidAudience => "the token's audience (aud) is not accepted",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "iss" => "the token has no issuer (iss); this server requires one",
            "aud" => "the token has no audience (aud); this server requires one",
            "exp" => "the token has no exp",
            _ => "the token lacks a required claim",
        },
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit its key",
        _ => "invalid token",
    }
}
