//! The customers of the caller's partner.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Clock;
use super::paging::{Page, PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::customer::{Agreement, Caller, Customer, Partner};
use crate::domain::customer::{
    EducationSegment, NewCustomer, QualificationKind, Submission, check_withdrawal,
};
use crate::domain::ids::{CustomerId, PartnerId, RequestId};
use crate::store::{QualificationWrite, Standing, Store, WriteKey};

#[derive(Debug, Clone)]
pub struct CustomerService {
    store: Store,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
}

fn unknown_partner() -> DomainError {
    DomainError::PermissionDenied {
        reason: "UNKNOWN_PARTNER",
        message: "the token's partner is not registered with this service".into(),
    }
}

impl CustomerService {
    pub fn new(store: Store, tokens: PageTokens, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            tokens,
            clock,
        }
    }

    fn not_found(id: CustomerId) -> DomainError {
        DomainError::not_found("customer", id.to_string())
    }

    pub async fn get(&self, caller: &Caller, id: CustomerId) -> Result<Customer, DomainError> {
        let partner = caller.partner()?;
        self.store
            .customer(partner, id)
            .await?
            .ok_or_else(|| Self::not_found(id))
    }

    /// The caller's partner and its customer: what the eligibility rules look at.
    pub async fn buyer(
        &self,
        caller: &Caller,
        id: CustomerId,
    ) -> Result<(Partner, Arc<Standing>), DomainError> {
        let partner_id = caller.partner()?;
        let (partner, standing) = tokio::try_join!(
            self.partner(partner_id),
            self.store.standing(partner_id, id)
        )?;
        Ok((partner, standing.ok_or_else(|| Self::not_found(id))?))
    }

    /// The caller's partner, from the store's cache after the first read.
    async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError> {
        self.store
            .cached_partner(id)
            .await?
            .ok_or_else(unknown_partner)
    }

    pub async fn create(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        new: NewCustomer,
    ) -> Result<Customer, DomainError> {
        caller.require(caller.role.may_manage_customers(), "create customers")?;
        let partner = caller.partner()?;
        if self.store.partner(partner).await?.is_none() {
            return Err(unknown_partner());
        }
        self.store
            .create_customer(
                partner,
                request_id,
                &new,
                CustomerId::new(),
                self.clock.now(),
            )
            .await
    }

    pub async fn list(
        &self,
        caller: &Caller,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Customer>, DomainError> {
        let partner = caller.partner()?;
        let limit = page_size(requested_page_size)?;
        let query = format!("customers|{partner}");
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|key| CustomerId::parse("page_token", &key))
            .transpose()?;
        let items = self
            .store
            .list_customers(partner, after, limit as u64 + 1)
            .await?;
        Ok(self
            .tokens
            .page(&query, limit, items, |item| item.id.to_string()))
    }

    /// The partner submits a qualification of its customer for the operator's vetting: it is
    /// in review until approved or denied.
    #[allow(clippy::too_many_arguments)] // the request's fields, each validated
    pub async fn submit_qualification(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: CustomerId,
        etag: Option<&str>,
        kind: QualificationKind,
        education_segment: Option<EducationSegment>,
        gcc_validation_code: &str,
    ) -> Result<Customer, DomainError> {
        caller.require(caller.role.may_manage_customers(), "change customers")?;
        let partner_id = caller.partner()?;
        let partner = self.partner(partner_id).await?;
        let submission = Submission::new(&partner, kind, education_segment, gcc_validation_code)?;
        let key = WriteKey {
            partner: partner_id,
            request_id,
            operation: "SubmitQualification",
            fingerprint: format!("{id}|{etag:?}|{submission:?}"),
        };
        let now = self.clock.now();
        self.store
            .change_qualification(Some(partner_id), Some(&key), id, etag, now, |customer| {
                submission.apply(customer, now).map(QualificationWrite::Put)
            })
            .await
    }

    /// The partner withdraws a qualification of its customer (any but Nonprofit).
    pub async fn withdraw_qualification(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: CustomerId,
        etag: Option<&str>,
        kind: QualificationKind,
    ) -> Result<Customer, DomainError> {
        caller.require(caller.role.may_manage_customers(), "change customers")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "WithdrawQualification",
            fingerprint: format!("{id}|{etag:?}|{kind:?}"),
        };
        self.store
            .change_qualification(
                Some(partner),
                Some(&key),
                id,
                etag,
                self.clock.now(),
                |customer| {
                    check_withdrawal(customer, kind)?;
                    Ok(QualificationWrite::Remove(kind))
                },
            )
            .await
    }

    #[allow(clippy::too_many_arguments)] // the request's fields, each validated
    pub async fn accept_agreement(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: CustomerId,
        etag: Option<&str>,
        contact_name: String,
        contact_email: String,
        accepted_at: Option<DateTime<Utc>>,
    ) -> Result<Customer, DomainError> {
        caller.require(caller.role.may_manage_customers(), "change customers")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "AcceptAgreement",
            // As sent: a retry without a time is the same request later.
            fingerprint: format!(
                "{id}|{etag:?}|{contact_name:?}|{contact_email:?}|{accepted_at:?}"
            ),
        };
        let now = self.clock.now();
        let accepted_at = accepted_at.unwrap_or(now);
        if accepted_at > now + chrono::Duration::minutes(5) {
            return Err(DomainError::invalid(
                "accept_time",
                "IN_FUTURE",
                "accept_time may not be in the future",
            ));
        }
        let agreement = Agreement {
            contact_name,
            contact_email,
            accepted_at,
        };
        self.store
            .accept_agreement(partner, Some(&key), id, etag, &agreement, now)
            .await
    }
}
