//! The operator's use cases on partners: register, read, change, and mint their users' tokens.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Clock;
use super::paging::{Page, PageTokens, page_size};
use crate::auth::TokenKeys;
use crate::domain::DomainError;
use crate::domain::customer::{Caller, NewPartner, Partner, PartnerRecord, PartnerUpdate, Role};
use crate::domain::ids::{PartnerId, RequestId};
use crate::store::{Store, WriteKey};

/// The claims a token from an identity provider must carry (README "Running for real").
pub const TOKEN_CLAIMS: &str =
    "sub (the user), partner_id (the partner's UUID), role, exp, iat (and iss/aud when configured)";

/// The operator's request ids are kept apart from every partner's: under the nil UUID.
pub(super) fn operator_scope() -> PartnerId {
    PartnerId::from_uuid(uuid::Uuid::nil())
}

/// A token minted for a partner's user.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PartnerService {
    store: Store,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
    /// `None` when this server does not sign tokens (`mint_tokens = false`).
    keys: Option<Arc<TokenKeys>>,
}

/// Only the operator: the interceptor admits no other role, and the service checks again.
fn operator_only(caller: &Caller) -> Result<(), DomainError> {
    caller.require(caller.role == Role::Operator, "manage partners")
}

impl PartnerService {
    pub fn new(
        store: Store,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
        keys: Option<Arc<TokenKeys>>,
    ) -> Self {
        Self {
            store,
            tokens,
            clock,
            keys,
        }
    }

    pub async fn register(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        new: NewPartner,
    ) -> Result<PartnerRecord, DomainError> {
        operator_only(caller)?;
        let request = WriteKey {
            partner: operator_scope(),
            request_id,
            operation: "RegisterPartner",
            fingerprint: new.fingerprint(),
        };
        let partner = Partner {
            id: PartnerId::new(),
            name: new.name,
            country: new.country,
            currency: new.currency,
            gcc: new.gcc,
        };
        let key = new.key.unwrap_or_else(|| partner.id.to_string());
        self.store
            .register_partner(&request, &key, &partner, self.clock.now())
            .await
    }

    pub async fn get(&self, caller: &Caller, id: PartnerId) -> Result<PartnerRecord, DomainError> {
        operator_only(caller)?;
        self.store
            .partner_record(id)
            .await?
            .ok_or_else(|| DomainError::not_found("partner", id.to_string()))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<PartnerRecord>, DomainError> {
        operator_only(caller)?;
        let limit = page_size(requested_page_size)?;
        let query = "partners";
        let after = self
            .tokens
            .decode(query, page_token)?
            .map(|key| PartnerId::parse("page_token", &key))
            .transpose()?;
        let items = self.store.list_partners(after, limit as u64 + 1).await?;
        Ok(self
            .tokens
            .page(query, limit, items, |p| p.partner.id.to_string()))
    }

    pub async fn update(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: PartnerId,
        etag: Option<&str>,
        update: PartnerUpdate,
    ) -> Result<PartnerRecord, DomainError> {
        operator_only(caller)?;
        let request = WriteKey {
            partner: operator_scope(),
            request_id,
            operation: "UpdatePartner",
            fingerprint: format!("{id}|{etag:?}|{update:?}"),
        };
        self.store
            .update_partner(&request, id, etag, &update, self.clock.now())
            .await
    }

    /// A token for `user` of partner `id` with `role`, living `lifetime` (at most the
    /// configured maximum).
    pub async fn mint_token(
        &self,
        caller: &Caller,
        id: PartnerId,
        role: Role,
        user: &str,
        lifetime: chrono::Duration,
    ) -> Result<MintedToken, DomainError> {
        operator_only(caller)?;
        let Some(keys) = &self.keys else {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "this server does not sign tokens (mint_tokens = false): they come from the identity provider, carrying {TOKEN_CLAIMS}"
                ),
                violations: vec![crate::domain::error::Precondition {
                    code: "TOKENS_FROM_IDENTITY_PROVIDER".into(),
                    subject: "settings/mint_tokens".into(),
                    description: format!("tokens must carry {TOKEN_CLAIMS}"),
                }],
            });
        };
        if role.is_platform() {
            return Err(DomainError::invalid(
                "role",
                "NOT_A_PARTNER_ROLE",
                "only a partner role's token is minted for a partner",
            ));
        }
        if let Some(max) = keys.policy().max_lifetime
            && lifetime.num_seconds() > i64::try_from(max).unwrap_or(i64::MAX)
        {
            return Err(DomainError::invalid(
                "lifetime_seconds",
                "OUT_OF_RANGE",
                format!("a token lives at most {max} s (jwt_max_lifetime_seconds)"),
            ));
        }
        if self.store.partner(id).await?.is_none() {
            return Err(DomainError::not_found("partner", id.to_string()));
        }
        let (token, exp) = keys
            .mint_with_expiry(user, Some(id), role, lifetime)
            .map_err(DomainError::Internal)?;
        Ok(MintedToken {
            token,
            expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now),
        })
    }
}
