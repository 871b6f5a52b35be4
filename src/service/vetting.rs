//! The operator's vetting: the queue of submitted qualifications across partners, approving or
//! denying one, and granting or revoking Nonprofit (which no partner can submit). Every
//! verdict bumps the customer's version: every replica forgets its standing at once (see
//! `Store::change_qualification`), and a checkout planned before it is refused and planned
//! again.

use std::sync::Arc;

use super::Clock;
use super::paging::{Page, PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::customer::{
    Caller, Customer, QualificationKind, QualificationReview, Role, Verdict,
};
use crate::domain::ids::{CustomerId, RequestId};
use crate::store::{QualificationWrite, ReviewKey, Store, WriteKey};

#[derive(Debug, Clone)]
pub struct VettingService {
    store: Store,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
}

fn operator_only(caller: &Caller) -> Result<(), DomainError> {
    caller.require(caller.role == Role::Operator, "vet qualifications")
}

impl VettingService {
    pub fn new(store: Store, tokens: PageTokens, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            tokens,
            clock,
        }
    }

    /// The qualifications in review, across partners, oldest submission first.
    pub async fn reviews(
        &self,
        caller: &Caller,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<QualificationReview>, DomainError> {
        operator_only(caller)?;
        let limit = page_size(requested_page_size)?;
        let query = "qualification-reviews-by-submission";
        let after = self
            .tokens
            .decode(query, page_token)?
            .map(|key| review_key(&key))
            .transpose()?;
        let items = self
            .store
            .qualification_reviews(after.as_ref(), limit as u64 + 1)
            .await?;
        Ok(self.tokens.page(query, limit, items, |r| {
            let q = &r.qualification;
            format!(
                "{}|{}|{}",
                q.submitted_at
                    .unwrap_or(q.updated_at)
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                r.customer_id,
                q.kind.as_str()
            )
        }))
    }

    /// Approves or denies a submitted qualification.
    pub async fn review(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: CustomerId,
        etag: Option<&str>,
        kind: QualificationKind,
        verdict: Verdict,
    ) -> Result<Customer, DomainError> {
        operator_only(caller)?;
        let key = operator_key(
            request_id,
            "ReviewQualification",
            format!("{id}|{etag:?}|{kind:?}|{verdict:?}"),
        );
        let now = self.clock.now();
        self.store
            .change_qualification(None, Some(&key), id, etag, now, |customer| {
                verdict
                    .review(customer, kind, now)
                    .map(QualificationWrite::Put)
            })
            .await
    }

    /// Grants (approve) or revokes (deny, with a reason) the customer's Nonprofit
    /// qualification: the only way it is set.
    pub async fn set_nonprofit(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: CustomerId,
        etag: Option<&str>,
        verdict: Verdict,
    ) -> Result<Customer, DomainError> {
        operator_only(caller)?;
        let key = operator_key(
            request_id,
            "SetNonprofit",
            format!("{id}|{etag:?}|{verdict:?}"),
        );
        let now = self.clock.now();
        self.store
            .change_qualification(None, Some(&key), id, etag, now, |customer| {
                Ok(QualificationWrite::Put(verdict.nonprofit(customer, now)))
            })
            .await
    }
}

/// The position a page token of the review queue names: `<submitted at>|<customer>|<kind>`.
fn review_key(key: &str) -> Result<ReviewKey, DomainError> {
    let corrupt = || DomainError::invalid("page_token", "MALFORMED", "page_token is corrupt");
    let mut parts = key.splitn(3, '|');
    let (Some(at), Some(customer), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(corrupt());
    };
    Ok(ReviewKey {
        submitted_at: chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|_| corrupt())?
            .to_utc(),
        customer_id: CustomerId::parse("page_token", customer)?,
        kind: QualificationKind::parse(kind).ok_or_else(corrupt)?,
    })
}

/// The operator's request ids are kept apart from every partner's (`partners::operator_scope`).
fn operator_key<'a>(
    request_id: &'a RequestId,
    operation: &'static str,
    fingerprint: String,
) -> WriteKey<'a> {
    WriteKey {
        partner: super::partners::operator_scope(),
        request_id,
        operation,
        fingerprint,
    }
}
