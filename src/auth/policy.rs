//! What a token must satisfy besides its signature.

use crate::config::Settings;

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
