//! A JSON Web Key Set file: its keys by `kid`, re-read when the file changes, so an identity
//! provider's keys rotate without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The JWKS file is looked at (its mtime) at most this often, and re-read for an unknown `kid`
/// at most this often.
const JWKS_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A larger key-set file is refused (and the last good set kept).
const MAX_JWKS_BYTES: u64 = 1 << 20;

/// A JSON Web Key Set file: its keys by `kid`, replaced whole when the file changes.
pub(super) struct Jwks {
    pub(super) path: PathBuf,
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
    pub(super) fn load(path: &Path) -> Result<Self, String> {
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

    pub(super) fn key(&self, kid: &str, alg: Algorithm) -> Option<DecodingKey> {
        self.keys
            .load()
            .get(kid)
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .map(|k| k.key.clone())
    }

    /// Re-reads the file when its stamp changed, looking at most once a `JWKS_CHECK_INTERVAL`
    /// (`force`, for an unknown `kid`: regardless of the last look, but as rarely); says
    /// whether the keys changed. A bad file keeps the last good keys.
    pub(super) fn refresh(&self, force: bool) -> bool {
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
