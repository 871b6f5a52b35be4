//! OperatorService handlers: partners and their tokens. The interceptor admits `operator` only.

use tonic::{Request, Response, Status};

use super::convert;
use super::pb;
use super::pb::operator_service_server::OperatorService;
use super::{caller, optional_etag};
use crate::domain::DomainError;
use crate::domain::FieldViolation;
use crate::domain::customer::Role;
use crate::domain::customer::Verdict;
use crate::domain::customer::{NewPartner, PartnerUpdate, parse_partner_key};
use crate::domain::error::Violations;
use crate::domain::ids::CustomerId;
use crate::domain::ids::{CountryCode, PartnerId, RequestId, parse_text};
use crate::domain::money::Currency;
use crate::service::orders::OrderService;
use crate::service::partners::PartnerService;
use crate::service::vetting::VettingService;

#[derive(Debug, Clone)]
pub struct OperatorApi {
    pub partners: PartnerService,
    pub vetting: VettingService,
    /// The renewal pass (RunRenewals).
    pub orders: OrderService,
}

/// A verdict from the request's decision and reason.
fn verdict(decision: i32, reason: &str, v: &mut Violations) -> Option<Verdict> {
    let approve = match pb::ReviewDecision::try_from(decision) {
        Ok(pb::ReviewDecision::Approve) => true,
        Ok(pb::ReviewDecision::Deny) => false,
        Ok(pb::ReviewDecision::Unspecified) => {
            v.push(FieldViolation::new(
                "decision",
                "REQUIRED",
                "decision is required (approve or deny)",
            ));
            return None;
        }
        Err(_) => {
            v.push(FieldViolation::new(
                "decision",
                "UNKNOWN_ENUM_VALUE",
                format!("decision {decision} is not a known value"),
            ));
            return None;
        }
    };
    let reason = if reason.trim().is_empty() {
        None
    } else {
        Some(v.check(parse_text("reason", reason, true))?)
    };
    v.check(Verdict::new(approve, reason))
}

/// A token's lifetime when the request names none.
const DEFAULT_TOKEN_LIFETIME_SECONDS: i64 = 3600;

#[tonic::async_trait]
impl OperatorService for OperatorApi {
    async fn register_partner(
        &self,
        request: Request<pb::RegisterPartnerRequest>,
    ) -> Result<Response<pb::RegisterPartnerResponse>, Status> {
        let caller = caller(&request)?;
        let pb::RegisterPartnerRequest {
            request_id,
            name,
            country,
            currency,
            gcc_status,
            key,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let name = v.check(parse_text("name", &name, true));
        let country = v.check(CountryCode::parse("country", &country));
        let currency = v.check(Currency::parse("currency", &currency));
        let gcc = v.check(convert::gcc_status("gcc_status", gcc_status));
        let key = if key.is_empty() {
            Some(None)
        } else {
            v.check(parse_partner_key("key", &key)).map(Some)
        };
        v.into_result()?;
        let (Some(request_id), Some(name), Some(country), Some(currency), Some(gcc), Some(key)) =
            (request_id, name, country, currency, gcc, key)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let partner = self
            .partners
            .register(
                &caller,
                &request_id,
                NewPartner {
                    key,
                    name,
                    country,
                    currency,
                    gcc: gcc.unwrap_or(false),
                },
            )
            .await?;
        Ok(Response::new(pb::RegisterPartnerResponse {
            partner: Some(convert::partner(&partner)),
        }))
    }

    async fn get_partner(
        &self,
        request: Request<pb::GetPartnerRequest>,
    ) -> Result<Response<pb::GetPartnerResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetPartnerRequest { partner_id } = request.into_inner();
        let id = PartnerId::parse("partner_id", &partner_id)?;
        let partner = self.partners.get(&caller, id).await?;
        Ok(Response::new(pb::GetPartnerResponse {
            partner: Some(convert::partner(&partner)),
        }))
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Result<Response<pb::ListPartnersResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListPartnersRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page = self.partners.list(&caller, page_size, &page_token).await?;
        Ok(Response::new(pb::ListPartnersResponse {
            partners: page.items.iter().map(convert::partner).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_partner(
        &self,
        request: Request<pb::UpdatePartnerRequest>,
    ) -> Result<Response<pb::UpdatePartnerResponse>, Status> {
        let caller = caller(&request)?;
        let pb::UpdatePartnerRequest {
            request_id,
            partner_id,
            etag,
            name,
            gcc_status,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(PartnerId::parse("partner_id", &partner_id));
        let name = if name.is_empty() {
            Some(None)
        } else {
            v.check(parse_text("name", &name, true)).map(Some)
        };
        let gcc = v.check(convert::gcc_status("gcc_status", gcc_status));
        v.into_result()?;
        let (Some(request_id), Some(id), Some(name), Some(gcc)) = (request_id, id, name, gcc)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let partner = self
            .partners
            .update(
                &caller,
                &request_id,
                id,
                optional_etag(&etag),
                PartnerUpdate { name, gcc },
            )
            .await?;
        Ok(Response::new(pb::UpdatePartnerResponse {
            partner: Some(convert::partner(&partner)),
        }))
    }

    async fn mint_token(
        &self,
        request: Request<pb::MintTokenRequest>,
    ) -> Result<Response<pb::MintTokenResponse>, Status> {
        let caller = caller(&request)?;
        let pb::MintTokenRequest {
            partner_id,
            role,
            user,
            lifetime_seconds,
        } = request.into_inner();
        let mut v = Violations::new();
        let id = v.check(PartnerId::parse("partner_id", &partner_id));
        let role = v.check(convert::partner_role("role", role));
        let user = v.check(parse_text("user", &user, true));
        let lifetime = match lifetime_seconds {
            0 => Some(DEFAULT_TOKEN_LIFETIME_SECONDS),
            s if s > 0 => Some(s),
            _ => {
                v.check::<()>(Err(DomainError::invalid(
                    "lifetime_seconds",
                    "OUT_OF_RANGE",
                    "lifetime_seconds may not be negative",
                )));
                None
            }
        };
        v.into_result()?;
        let (Some(id), Some(role), Some(user), Some(lifetime)) = (id, role, user, lifetime) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let minted = self
            .partners
            .mint_token(
                &caller,
                id,
                role,
                &user,
                chrono::Duration::try_seconds(lifetime).unwrap_or(chrono::Duration::MAX),
            )
            .await?;
        Ok(Response::new(pb::MintTokenResponse {
            token: minted.token,
            expire_time: Some(convert::timestamp(minted.expires_at)),
        }))
    }

    async fn list_qualification_reviews(
        &self,
        request: Request<pb::ListQualificationReviewsRequest>,
    ) -> Result<Response<pb::ListQualificationReviewsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListQualificationReviewsRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page = self
            .vetting
            .reviews(&caller, page_size, &page_token)
            .await?;
        Ok(Response::new(pb::ListQualificationReviewsResponse {
            reviews: page
                .items
                .iter()
                .map(convert::qualification_review)
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn review_qualification(
        &self,
        request: Request<pb::ReviewQualificationRequest>,
    ) -> Result<Response<pb::ReviewQualificationResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ReviewQualificationRequest {
            request_id,
            customer_id,
            etag,
            kind,
            decision,
            reason,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(CustomerId::parse("customer_id", &customer_id));
        let kind = v.check(convert::qualification_kind("kind", kind));
        let verdict = verdict(decision, &reason, &mut v);
        v.into_result()?;
        let (Some(request_id), Some(id), Some(kind), Some(verdict)) =
            (request_id, id, kind, verdict)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .vetting
            .review(
                &caller,
                &request_id,
                id,
                optional_etag(&etag),
                kind,
                verdict,
            )
            .await?;
        Ok(Response::new(pb::ReviewQualificationResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn set_nonprofit(
        &self,
        request: Request<pb::SetNonprofitRequest>,
    ) -> Result<Response<pb::SetNonprofitResponse>, Status> {
        let caller = caller(&request)?;
        let pb::SetNonprofitRequest {
            request_id,
            customer_id,
            etag,
            decision,
            reason,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(CustomerId::parse("customer_id", &customer_id));
        let verdict = verdict(decision, &reason, &mut v);
        v.into_result()?;
        let (Some(request_id), Some(id), Some(verdict)) = (request_id, id, verdict) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .vetting
            .set_nonprofit(&caller, &request_id, id, optional_etag(&etag), verdict)
            .await?;
        Ok(Response::new(pb::SetNonprofitResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn run_renewals(
        &self,
        request: Request<pb::RunRenewalsRequest>,
    ) -> Result<Response<pb::RunRenewalsResponse>, Status> {
        let caller = caller(&request)?;
        caller.require(caller.role == Role::Operator, "run renewals")?;
        let pb::RunRenewalsRequest { until } = request.into_inner();
        let until = until
            .map(|t| convert::parse_timestamp("until", &t))
            .transpose()?;
        let counts = self.orders.run_renewals(until).await?;
        Ok(Response::new(pb::RunRenewalsResponse {
            renewed: i64::try_from(counts.renewed).unwrap_or(i64::MAX),
            expired: i64::try_from(counts.expired).unwrap_or(i64::MAX),
        }))
    }
}
