//! Bearer tokens: JWTs carrying the partner and the role. HS256 with a shared secret; RS256 with
//! one PEM public key; and the keys of a JSON Web Key Set file, picked by the token's `kid` and
//! re-read when the file changes, so an identity provider's keys rotate without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
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

/// What `mint` signs: the claims, plus the issuer and audience when configured.
#[derive(Serialize)]
struct MintedClaims<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// The claims read from a token being verified (`iss`, `aud`, `nbf` are checked by
/// `jsonwebtoken`); `iat` may be absent in tokens minted elsewhere.
#[derive(Deserialize)]
struct PresentedClaims {
    sub: String,
    #[serde(default)]
    partner_id: Option<String>,
    role: String,
    #[serde(default)]
    iat: Option<i64>,
    exp: i64,
}

/// Tokens verified at most this long ago are kept; past that many, all are forgotten at once.
const MAX_VERIFIED: usize = 10_000;
/// The JWKS file is looked at (its mtime) at most this often, and re-read for an unknown `kid`
/// at most this often.
const JWKS_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A larger key-set file is refused (and the last good set kept).
const MAX_JWKS_BYTES: u64 = 1 << 20;
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

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set; when not, an `aud` is not checked.
    pub audience: Option<String>,
    /// The longest `exp - iat` accepted (seconds); `iat` is then required.
    pub max_lifetime: Option<u64>,
    /// Clock skew allowed on `exp`, `nbf` and `iat` (seconds).
    pub leeway: u64,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            max_lifetime: Some(24 * 3600),
            leeway: 30,
        }
    }
}

impl TokenPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        let set = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Self {
            issuer: set(&settings.jwt_issuer),
            audience: set(&settings.jwt_audience),
            max_lifetime: Some(settings.jwt_max_lifetime_seconds).filter(|&s| s > 0),
            leeway: settings.jwt_leeway_seconds,
        }
    }
}

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
    /// Tokens already verified, with who they speak for and the last second they are valid: a
    /// signature and the claims check the same every time, so a client that sends the same
    /// token on every call (as clients do) pays for parsing and the signature once, and only
    /// `exp` is checked again (`nbf` and the lifetime held when it was verified and still
    /// do). Emptied when the key set changes.
    verified: Arc<Mutex<Verified>>,
}

/// Token -> (who it speaks for, the last second it is accepted).
type Verified = HashMap<Box<str>, (Authenticated, i64)>;

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

    /// Mints an HS256 token (the `token` subcommand and the tests), with the configured issuer
    /// and audience; refuses a lifetime over the maximum.
    pub fn mint(
        &self,
        user: &str,
        partner: Option<PartnerId>,
        role: Role,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
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
        encode(&Header::new(Algorithm::HS256), &minted, &self.hs256.0).map_err(|e| e.to_string())
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

    /// Who `token` speaks for, if it was verified before and has not expired since.
    pub fn cached(&self, token: &str) -> Option<Authenticated> {
        self.refresh_jwks(false);
        let now = Utc::now().timestamp();
        match self.verified().get(token) {
            Some(&(found, valid_until)) if now <= valid_until => Some(found),
            _ => None,
        }
    }

    /// Verifies a token not in the cache, and keeps it there once verified.
    pub fn verify_new(&self, token: &str) -> Result<Authenticated, DomainError> {
        let (found, exp) = self.verify_token(token)?;
        let mut verified = self.verified();
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        let leeway = i64::try_from(self.policy.leeway).unwrap_or(i64::MAX);
        verified.insert(token.into(), (found, exp.saturating_add(leeway)));
        Ok(found)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, Verified> {
        // Each change is one insert or a clear: a panicking holder leaves the map whole.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Re-reads the JWKS file if it changed (`force`: for an unknown `kid`); a new key set
    /// empties the cache, so a token of a key taken out is verified again, and refused.
    fn refresh_jwks(&self, force: bool) -> bool {
        let reloaded = self.jwks.as_ref().is_some_and(|jwks| jwks.refresh(force));
        if reloaded {
            self.verified().clear();
        }
        reloaded
    }

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
    fn verify_token(&self, token: &str) -> Result<(Authenticated, i64), DomainError> {
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
            (Role::CatalogAdmin, _) | (_, Some(_)) => Caller { partner, role },
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

/// A JSON Web Key Set file: its keys by `kid`, replaced whole when the file changes.
struct Jwks {
    path: PathBuf,
    keys: ArcSwap<HashMap<String, JwksKey>>,
    /// Taken with `try_lock` only: one caller looks at the file, the others go on with the
    /// keys they have.
    watch: Mutex<JwksWatch>,
}

struct JwksKey {
    key: DecodingKey,
    /// The key's `alg`, when the set names one: a token must then use that one.
    alg: Option<Algorithm>,
}

struct JwksWatch {
    /// The file's modification time and length when last read.
    seen: Option<(SystemTime, u64)>,
    checked: Instant,
    forced: Option<Instant>,
}

impl Jwks {
    fn load(path: &Path) -> Result<Self, String> {
        let stamp = file_stamp(path)
            .map_err(|e| format!("cannot read jwt_jwks_file {}: {e}", path.display()))?;
        let keys = read_key_set(path, stamp.1)
            .map_err(|e| format!("cannot use jwt_jwks_file {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), keys = keys.len(), "JWKS loaded");
        Ok(Self {
            path: path.to_owned(),
            keys: ArcSwap::from_pointee(keys),
            watch: Mutex::new(JwksWatch {
                seen: Some(stamp),
                checked: Instant::now(),
                forced: None,
            }),
        })
    }

    fn key(&self, kid: &str, alg: Algorithm) -> Option<DecodingKey> {
        self.keys
            .load()
            .get(kid)
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .map(|k| k.key.clone())
    }

    /// Re-reads the file when its stamp changed, looking at most once a `JWKS_CHECK_INTERVAL`
    /// (`force`, for an unknown `kid`: regardless of the last look, but as rarely); says
    /// whether the keys changed. A bad file keeps the last good keys.
    fn refresh(&self, force: bool) -> bool {
        let Ok(mut watch) = self.watch.try_lock() else {
            return false;
        };
        let now = Instant::now();
        let last = if force {
            watch.forced
        } else {
            Some(watch.checked)
        };
        if last.is_some_and(|t| now.duration_since(t) < JWKS_CHECK_INTERVAL) {
            return false;
        }
        watch.checked = now;
        if force {
            watch.forced = Some(now);
        }
        let stamp = match file_stamp(&self.path) {
            Ok(stamp) => stamp,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot look at the JWKS file; keeping the last keys");
                return false;
            }
        };
        if watch.seen == Some(stamp) {
            return false;
        }
        // Recorded before reading, so a bad file is read once, not every second.
        watch.seen = Some(stamp);
        match read_key_set(&self.path, stamp.1) {
            Ok(keys) => {
                tracing::info!(path = %self.path.display(), keys = keys.len(), "JWKS reloaded");
                self.keys.store(Arc::new(keys));
                true
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "the JWKS file is not usable; keeping the last keys");
                false
            }
        }
    }
}

fn file_stamp(path: &Path) -> std::io::Result<(SystemTime, u64)> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.modified()?, meta.len()))
}

/// The public keys of a JWKS file, by `kid`; keys without a `kid` or of another kind are
/// skipped with a warning.
fn read_key_set(path: &Path, len: u64) -> Result<HashMap<String, JwksKey>, String> {
    if len > MAX_JWKS_BYTES {
        return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
    }
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let set: JwkSet = serde_json::from_slice(&text).map_err(|e| format!("not a JWK set: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            tracing::warn!("a JWKS key without a kid is skipped");
            continue;
        };
        if !matches!(
            jwk.algorithm,
            AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_)
        ) {
            tracing::warn!(%kid, "only RSA and EC keys are taken from the JWKS; skipped");
            continue;
        }
        let alg = match jwk.common.key_algorithm {
            Some(a) => Some(
                a.to_string()
                    .parse::<Algorithm>()
                    .map_err(|_| format!("key {kid}: algorithm {a} is not usable"))?,
            ),
            None => None,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid}: {e}"))?;
        keys.insert(kid, JwksKey { key, alg });
    }
    if keys.is_empty() {
        return Err("no usable key".into());
    }
    Ok(keys)
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

    #[test]
    fn policy_claims_are_minted_and_required_and_a_refused_token_is_never_kept() {
        let policy = TokenPolicy {
            issuer: Some("https://idp.example".into()),
            audience: Some("csp".into()),
            max_lifetime: Some(3600),
            leeway: 30,
        };
        let keys = TokenKeys::new("0123456789abcdef0123", None)
            .unwrap()
            .with_policy(policy.clone());
        let partner = PartnerId::new();
        let token = keys
            .mint(
                "ana",
                Some(partner),
                Role::SalesAgent,
                chrono::Duration::minutes(30),
            )
            .unwrap();
        assert!(keys.verify(Some(&format!("Bearer {token}"))).is_ok());
        assert!(
            keys.mint(
                "ana",
                Some(partner),
                Role::SalesAgent,
                chrono::Duration::hours(2)
            )
            .unwrap_err()
            .contains("at most 3600 s")
        );
        // The same secret without the issuer: its tokens lack `iss` and `aud`.
        let plain = TokenKeys::new("0123456789abcdef0123", None).unwrap();
        let bare = plain
            .mint(
                "ana",
                Some(partner),
                Role::SalesAgent,
                chrono::Duration::minutes(30),
            )
            .unwrap();
        assert!(keys.verify(Some(&format!("Bearer {bare}"))).is_err());
        // ...and `plain` takes the token with an audience, having none configured.
        assert!(plain.verify(Some(&format!("Bearer {token}"))).is_ok());

        // Not valid yet: refused, and refused again (never kept as verified).
        let now = Utc::now().timestamp();
        let early = MintedClaims {
            claims: &Claims {
                sub: "ana".into(),
                partner_id: Some(partner.to_string()),
                role: "sales_agent".into(),
                iat: now,
                exp: now + 600,
            },
            iss: Some("https://idp.example"),
            aud: Some("csp"),
        };
        let mut value = serde_json::to_value(&early).unwrap();
        value["nbf"] = serde_json::json!(now + 300);
        let early = encode(&Header::new(Algorithm::HS256), &value, &keys.hs256.0).unwrap();
        for _ in 0..2 {
            let refused = keys.verify(Some(&format!("Bearer {early}"))).unwrap_err();
            assert!(refused.to_string().contains("nbf"), "{refused}");
            assert!(keys.cached(&early).is_none());
        }
    }
}
