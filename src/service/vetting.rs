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
use crate::store::{QualificationWrite, Store, WriteKey};

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

    /// The qualifications in review, across partners, in (customer, kind) order.
    pub async fn reviews(
        &self,
        caller: &Caller,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<QualificationReview>, DomainError> {
        operator_only(caller)?;
        let limit = page_size(requested_page_size)?;
        let query = "qualification-reviews";
        let after = match self.tokens.decode(query, page_token)? {
            None => None,
            Some(key) => {
                let corrupt =
                    || DomainError::invalid("page_token", "MALFORMED", "page_token is corrupt");
                let (customer, kind) = key.split_once('|').ok_or_else(corrupt)?;
                Some((
                    CustomerId::parse("page_token", customer)?,
                    QualificationKind::parse(kind).ok_or_else(corrupt)?,
                ))
            }
        };
        let items = self
            .store
            .qualification_reviews(after, limit as u64 + 1)
            .await?;
        Ok(self.tokens.page(query, limit, items, |r| {
            format!("{}|{}", r.customer_id, r.qualification.kind.as_str())
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
