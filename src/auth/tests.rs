use chrono::Utc;
use jsonwebtoken::{Algorithm, Header, encode};

use super::claims::MintedClaims;
use super::*;
use crate::domain::customer::Role;
use crate::domain::ids::PartnerId;

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
    // Cached once verified; a token that differs in one byte is verified on its own (and
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
fn policy_claims_are_minted_and_required_and_a_refused_token_is_never_cached() {
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

    // Not valid yet: refused, and refused again (never cached as verified).
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
