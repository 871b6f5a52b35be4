//! CustomerService handlers.

use tonic::{Request, Response, Status};

use super::convert;
use super::pb;
use super::pb::customer_service_server::CustomerService;
use super::{caller, optional_etag};
use crate::domain::customer::NewCustomer;
use crate::domain::error::Violations;
use crate::domain::ids::{
    CountryCode, CustomerId, RequestId, parse_domain, parse_email, parse_text,
};
use crate::domain::{DomainError, FieldViolation};
use crate::service::customers::CustomerService as Customers;

#[derive(Debug, Clone)]
pub struct CustomerApi {
    pub customers: Customers,
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CreateCustomerRequest {
            request_id,
            company_name,
            country,
            email,
            domain,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let company_name = v.check(parse_text("company_name", &company_name, true));
        let country = v.check(CountryCode::parse("country", &country));
        let email = v.check(parse_email("email", &email));
        let domain = v.check(parse_domain("domain", &domain, false));
        v.into_result()?;
        let (Some(request_id), Some(company_name), Some(country), Some(email), Some(domain)) =
            (request_id, company_name, country, email, domain)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .customers
            .create(
                &caller,
                &request_id,
                NewCustomer {
                    company_name,
                    country,
                    email,
                    domain,
                },
            )
            .await?;
        Ok(Response::new(pb::CreateCustomerResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::GetCustomerResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetCustomerRequest { customer_id } = request.into_inner();
        let id = CustomerId::parse("customer_id", &customer_id)?;
        let customer = self.customers.get(&caller, id).await?;
        Ok(Response::new(pb::GetCustomerResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListCustomersRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page = self.customers.list(&caller, page_size, &page_token).await?;
        Ok(Response::new(pb::ListCustomersResponse {
            customers: page.items.iter().map(convert::customer).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn submit_qualification(
        &self,
        request: Request<pb::SubmitQualificationRequest>,
    ) -> Result<Response<pb::SubmitQualificationResponse>, Status> {
        let caller = caller(&request)?;
        let pb::SubmitQualificationRequest {
            request_id,
            customer_id,
            etag,
            kind,
            education_segment,
            gcc_validation_code,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(CustomerId::parse("customer_id", &customer_id));
        let kind = v.check(convert::qualification_kind("kind", kind));
        let segment = v.check(convert::education_segment(
            "education_segment",
            education_segment,
        ));
        // Measured before the domain reads it (its shape is the domain's rule).
        if gcc_validation_code.len() > 256 {
            v.push(FieldViolation::new(
                "gcc_validation_code",
                "TOO_LONG",
                "gcc_validation_code may be at most 64 characters",
            ));
        }
        v.into_result()?;
        let (Some(request_id), Some(id), Some(kind), Some(segment)) =
            (request_id, id, kind, segment)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .customers
            .submit_qualification(
                &caller,
                &request_id,
                id,
                optional_etag(&etag),
                kind,
                segment,
                &gcc_validation_code,
            )
            .await?;
        Ok(Response::new(pb::SubmitQualificationResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn withdraw_qualification(
        &self,
        request: Request<pb::WithdrawQualificationRequest>,
    ) -> Result<Response<pb::WithdrawQualificationResponse>, Status> {
        let caller = caller(&request)?;
        let pb::WithdrawQualificationRequest {
            request_id,
            customer_id,
            etag,
            kind,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(CustomerId::parse("customer_id", &customer_id));
        let kind = v.check(convert::qualification_kind("kind", kind));
        v.into_result()?;
        let (Some(request_id), Some(id), Some(kind)) = (request_id, id, kind) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .customers
            .withdraw_qualification(&caller, &request_id, id, optional_etag(&etag), kind)
            .await?;
        Ok(Response::new(pb::WithdrawQualificationResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }

    async fn accept_agreement(
        &self,
        request: Request<pb::AcceptAgreementRequest>,
    ) -> Result<Response<pb::AcceptAgreementResponse>, Status> {
        let caller = caller(&request)?;
        let pb::AcceptAgreementRequest {
            request_id,
            customer_id,
            etag,
            contact_name,
            contact_email,
            accept_time,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(CustomerId::parse("customer_id", &customer_id));
        let contact_name = v.check(parse_text("contact_name", &contact_name, true));
        let contact_email = v.check(parse_email("contact_email", &contact_email));
        let accepted_at = match accept_time {
            Some(ts) => v.check(convert::parse_timestamp("accept_time", &ts)),
            None => None,
        };
        v.into_result()?;
        let (Some(request_id), Some(id), Some(contact_name), Some(contact_email)) =
            (request_id, id, contact_name, contact_email)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let customer = self
            .customers
            .accept_agreement(
                &caller,
                &request_id,
                id,
                optional_etag(&etag),
                contact_name,
                contact_email,
                accepted_at,
            )
            .await?;
        Ok(Response::new(pb::AcceptAgreementResponse {
            customer: Some(convert::customer(&customer)),
        }))
    }
}
