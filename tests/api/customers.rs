//! CustomerService through the wire: create (idempotent), get, list with paging,
//! qualifications and the agreement with etags, validation of every field, and roles.

use std::collections::BTreeSet;

use crate::common::{self, CustomerClient, TestApp, reason, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

fn create_request(request_id: &str) -> pb::CreateCustomerRequest {
    pb::CreateCustomerRequest {
        request_id: request_id.into(),
        company_name: "Contoso Pharmaceuticals".into(),
        country: "FR".into(),
        email: "it@contoso-pharma.example.com".into(),
        domain: "contosopharma.onmicrosoft.com".into(),
    }
}

/// A ListCustomers request for one page.
fn page_request(page_size: i32, page_token: impl Into<String>) -> pb::ListCustomersRequest {
    pb::ListCustomersRequest {
        page_size,
        page_token: page_token.into(),
    }
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The customer a successful CreateCustomer answered.
async fn create_customer(
    client: &mut CustomerClient,
    request: pb::CreateCustomerRequest,
) -> pb::Customer {
    let response = client.create_customer(request).await.unwrap();
    response.into_inner().customer.unwrap()
}

/// The customer a successful SubmitQualification answered.
async fn submit(
    client: &mut CustomerClient,
    request: pb::SubmitQualificationRequest,
) -> pb::Customer {
    let response = client.submit_qualification(request).await.unwrap();
    response.into_inner().customer.unwrap()
}

/// The customer a successful AcceptAgreement answered.
async fn accept_agreement(
    client: &mut CustomerClient,
    request: pb::AcceptAgreementRequest,
) -> pb::Customer {
    let response = client.accept_agreement(request).await.unwrap();
    response.into_inner().customer.unwrap()
}

async fn get(app: &TestApp, partner: &str, customer_id: &str) -> pb::Customer {
    app.customers(partner, Role::HelpdeskAgent)
        .get_customer(pb::GetCustomerRequest {
            customer_id: customer_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
}

/// A submission of `kind` with the details it needs, at `etag`.
fn submit_request(customer_id: &str, etag: &str, kind: i32) -> pb::SubmitQualificationRequest {
    let kind = pb::QualificationKind::try_from(kind).unwrap_or_default();
    pb::SubmitQualificationRequest {
        etag: etag.into(),
        kind: kind as i32,
        ..common::submission(customer_id, kind)
    }
}

fn accept_request(customer_id: &str, etag: &str) -> pb::AcceptAgreementRequest {
    pb::AcceptAgreementRequest {
        request_id: rid(),
        customer_id: customer_id.into(),
        etag: etag.into(),
        contact_name: "Ana Ribeiro".into(),
        contact_email: "ana@contoso.example.com".into(),
        accept_time: None,
    }
}

const NONPROFIT: i32 = pb::QualificationKind::Nonprofit as i32;
const EDUCATION: i32 = pb::QualificationKind::Education as i32;
const STATE_OWNED: i32 = pb::QualificationKind::StateOwnedEntity as i32;
const APPROVED: i32 = pb::VettingStatus::Approved as i32;
const IN_REVIEW: i32 = pb::VettingStatus::InReview as i32;

on_both_backends!(
    create_then_get_and_retry_idempotently,
    async |app: &TestApp| {
        let mut client = app.customers("us", Role::SalesAgent);
        let created = create_customer(&mut client, create_request("create-1")).await;
        uuid::Uuid::parse_str(&created.id).expect("a UUID id");
        assert_eq!(created.company_name, "Contoso Pharmaceuticals");
        assert_eq!(created.country, "FR");
        assert_eq!(created.email, "it@contoso-pharma.example.com");
        assert_eq!(created.domain, "contosopharma.onmicrosoft.com");
        assert!(created.qualifications.is_empty());
        assert!(created.agreement.is_none());
        assert!(!created.etag.is_empty());
        let now = timestamp(common::start_of_test_time());
        assert_eq!(created.create_time, Some(now));
        assert_eq!(created.update_time, Some(now));

        // Get returns the same customer.
        assert_eq!(get(app, "us", &created.id).await, created);

        // A retry with the same request id and body returns the first customer, even later.
        app.clock.advance(chrono::Duration::minutes(3));
        let retried = create_customer(&mut client, create_request("create-1")).await;
        assert_eq!(retried, created);

        // The same request id with another body is refused, naming the request id.
        let mut other = create_request("create-1");
        other.company_name = "Another Company".into();
        let err = client.create_customer(other).await.unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "request_id"),
            "REQUEST_ID_REUSED"
        );
        let mut other = create_request("create-1");
        other.country = "DE".into();
        let err = client.create_customer(other).await.unwrap_err();
        common::assert_bad_field(&err, "request_id");

        // A new request id with the same body is a new customer.
        let second = create_customer(&mut client, create_request("create-2")).await;
        assert_ne!(second.id, created.id);

        // Normalised input: lower-case country, padded name, upper-case domain.
        let normalised = create_customer(
            &mut client,
            pb::CreateCustomerRequest {
                request_id: "create-3".into(),
                company_name: "  Fourth Coffee  ".into(),
                country: "gb".into(),
                email: "ops@fourthcoffee.example.com".into(),
                domain: "FourthCoffee.OnMicrosoft.com".into(),
            },
        )
        .await;
        assert_eq!(normalised.company_name, "Fourth Coffee");
        assert_eq!(normalised.country, "GB");
        assert_eq!(normalised.domain, "fourthcoffee.onmicrosoft.com");
        // The domain is optional.
        let mut no_domain = create_request("create-4");
        no_domain.domain = String::new();
        let c = create_customer(&mut client, no_domain).await;
        assert_eq!(c.domain, "");

        // Every role that may buy may create customers.
        for role in [Role::GlobalAdmin, Role::AdminAgent] {
            app.customers("us", role)
                .create_customer(create_request(&rid()))
                .await
                .unwrap();
        }
        let listed = app
            .customers("us", Role::SalesAgent)
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner();
        // 4 seeded, 6 created.
        assert_eq!(listed.customers.len(), 10);
        assert!(listed.customers.contains(&created));
    }
);

on_both_backends!(get_reads_the_seeded_customer, async |app: &TestApp| {
    let id = TestApp::customer_id("us-northwind-foundation");
    let c = get(app, "us", &id).await;
    assert_eq!(c.id, id);
    assert_eq!(c.company_name, "Northwind Traders Foundation");
    assert_eq!(c.country, "US");
    assert_eq!(c.qualifications.len(), 1);
    assert_eq!(c.qualifications[0].kind, NONPROFIT);
    assert_eq!(c.qualifications[0].vetting_status, APPROVED);
    let agreement = c.agreement.unwrap();
    assert_eq!(agreement.contact_name, "Marcus Oyelaran");
    assert_eq!(
        agreement.accept_time,
        Some(prost_types::Timestamp {
            seconds: chrono::DateTime::parse_from_rfc3339("2026-10-02T14:30:00Z")
                .unwrap()
                .timestamp(),
            nanos: 0
        })
    );
    // Upper-case UUIDs name the same customer.
    assert_eq!(get(app, "us", &id.to_uppercase()).await.id, id);
    // An unknown id.
    let err = app
        .customers("us", Role::SalesAgent)
        .get_customer(pb::GetCustomerRequest {
            customer_id: common::unknown_id(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "NOT_FOUND");
});

on_both_backends!(list_pages_through_every_customer, async |app: &TestApp| {
    let mut client = app.customers("us", Role::HelpdeskAgent);
    let seeded: BTreeSet<String> = [
        "us-fabrikam",
        "us-northwind-foundation",
        "us-bellows-college",
        "us-woodgrove-de",
    ]
    .into_iter()
    .map(TestApp::customer_id)
    .collect();

    for page_size in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = client
                .list_customers(page_request(page_size, token.clone()))
                .await
                .unwrap()
                .into_inner();
            pages += 1;
            assert!(page.customers.len() <= page_size as usize);
            assert!(!page.customers.is_empty(), "no empty page");
            seen.extend(page.customers.into_iter().map(|c| c.id));
            if page.next_page_token.is_empty() {
                break;
            }
            assert_ne!(page.next_page_token, token);
            token = page.next_page_token;
        }
        assert_eq!(
            pages,
            4_usize.div_ceil(page_size as usize),
            "size {page_size}"
        );
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "no duplicates");
        assert_eq!(unique, seeded, "size {page_size}");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "a stable order");
    }

    // 0 is the default (50) and a huge size is clamped: one page either way.
    for page_size in [0, 10_000] {
        let page = client
            .list_customers(page_request(page_size, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.customers.len(), 4);
        assert!(page.next_page_token.is_empty());
    }

    // A customer created between pages shows up exactly once.
    let first = client
        .list_customers(page_request(2, ""))
        .await
        .unwrap()
        .into_inner();
    let created = app
        .customers("us", Role::SalesAgent)
        .create_customer(create_request("between-pages"))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let mut all: Vec<String> = first.customers.into_iter().map(|c| c.id).collect();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = client
            .list_customers(page_request(2, token))
            .await
            .unwrap()
            .into_inner();
        all.extend(page.customers.into_iter().map(|c| c.id));
        token = page.next_page_token;
    }
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len());
    assert!(unique.is_superset(&seeded));
    // Keyset paging: the new customer is seen once, or not at all when its id sorts before
    // the page already read.
    let cursor = &all[1];
    assert_eq!(unique.contains(&created.id), created.id > *cursor);
    assert_eq!(unique.len(), if created.id > *cursor { 5 } else { 4 });

    // Bad paging.
    let err = client
        .list_customers(page_request(-1, ""))
        .await
        .unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "page_size"), "OUT_OF_RANGE");
    for forged in [
        "forged",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "!!!",
    ] {
        let err = client
            .list_customers(page_request(1, forged))
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "page_token"),
            "INVALID_PAGE_TOKEN"
        );
    }
    // A real token with one character changed.
    let page = client
        .list_customers(page_request(1, ""))
        .await
        .unwrap()
        .into_inner();
    let mut edited = page.next_page_token.clone().into_bytes();
    let last = edited.len() - 1;
    edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
    let err = client
        .list_customers(page_request(1, String::from_utf8(edited).unwrap()))
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_token");
    // A catalog token is no customer token.
    let catalog_page = app
        .catalog("us", Role::SalesAgent)
        .list_products(pb::ListProductsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let err = client
        .list_customers(page_request(1, catalog_page.next_page_token))
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_token");
});

on_both_backends!(
    submitted_qualifications_are_in_review_under_an_etag,
    async |app: &TestApp| {
        let id = TestApp::customer_id("us-fabrikam");
        let mut client = app.customers("us", Role::AdminAgent);
        let before = get(app, "us", &id).await;
        assert!(before.qualifications.is_empty());

        app.clock.advance(chrono::Duration::hours(1));
        let now = common::start_of_test_time() + chrono::Duration::hours(1);
        let after = submit(&mut client, submit_request(&id, &before.etag, EDUCATION)).await;
        assert_ne!(after.etag, before.etag);
        assert_eq!(after.update_time, Some(timestamp(now)));
        assert_eq!(after.create_time, before.create_time);
        let [q] = &after.qualifications[..] else {
            panic!("{after:?}");
        };
        assert_eq!((q.kind, q.vetting_status), (EDUCATION, IN_REVIEW));
        assert_eq!(q.education_segment(), pb::EducationSegment::K12);
        assert_eq!(q.submit_time, Some(timestamp(now)));
        assert_eq!(q.review_time, None);
        assert_eq!(get(app, "us", &id).await, after);

        // The old etag is stale now: ABORTED, and nothing changes.
        let err = client
            .submit_qualification(submit_request(&id, &before.etag, STATE_OWNED))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted, "{err:?}");
        assert_eq!(reason(&err), "ETAG_MISMATCH");
        assert_eq!(get(app, "us", &id).await, after);
        let err = client
            .submit_qualification(submit_request(&id, "v999", STATE_OWNED))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);

        // Another kind beside it; withdrawing one leaves the other.
        let both = submit(&mut client, submit_request(&id, &after.etag, STATE_OWNED)).await;
        assert_eq!(both.qualifications.len(), 2);
        let withdrawn = client
            .withdraw_qualification(pb::WithdrawQualificationRequest {
                request_id: rid(),
                customer_id: id.clone(),
                etag: both.etag.clone(),
                kind: EDUCATION,
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(
            withdrawn
                .qualifications
                .iter()
                .map(|q| q.kind)
                .collect::<Vec<_>>(),
            [STATE_OWNED]
        );
        let err = client
            .withdraw_qualification(pb::WithdrawQualificationRequest {
                request_id: rid(),
                customer_id: id.clone(),
                etag: String::new(),
                kind: EDUCATION,
            })
            .await
            .unwrap_err();
        assert_eq!(common::violations(&err)[0].r#type, "NO_SUCH_QUALIFICATION");

        // Unknown and missing enum values.
        let err = client
            .submit_qualification(pb::SubmitQualificationRequest {
                kind: 99,
                ..submit_request(&id, "", EDUCATION)
            })
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "kind"), "UNKNOWN_ENUM_VALUE");
        let err = client
            .submit_qualification(pb::SubmitQualificationRequest {
                education_segment: 7,
                ..submit_request(&id, "", EDUCATION)
            })
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "education_segment"),
            "UNKNOWN_ENUM_VALUE"
        );
        let err = client
            .submit_qualification(pb::SubmitQualificationRequest {
                kind: 0,
                ..submit_request(&id, "", EDUCATION)
            })
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "kind"), "REQUIRED");
        // A request id is required on every write.
        let mut no_request_id = submit_request(&id, "", STATE_OWNED);
        no_request_id.request_id = String::new();
        let err = client
            .submit_qualification(no_request_id)
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "request_id"), "REQUIRED");
        // None of the refused calls changed anything.
        assert_eq!(get(app, "us", &id).await, withdrawn);
        // An unknown customer.
        let err = client
            .submit_qualification(submit_request(&common::unknown_id(), "", STATE_OWNED))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    accept_agreement_records_who_and_when,
    async |app: &TestApp| {
        let id = TestApp::customer_id("de-alpine-ski-house");
        let mut client = app.customers("de", Role::GlobalAdmin);
        let before = get(app, "de", &id).await;
        assert!(before.agreement.is_none());

        // A time in the future is refused.
        let mut future = accept_request(&id, &before.etag);
        future.accept_time = Some(timestamp(
            common::start_of_test_time() + chrono::Duration::days(1),
        ));
        let err = client.accept_agreement(future).await.unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "accept_time"), "IN_FUTURE");
        let mut future = accept_request(&id, &before.etag);
        future.accept_time = Some(timestamp(
            common::start_of_test_time() + chrono::Duration::hours(1),
        ));
        let err = client.accept_agreement(future).await.unwrap_err();
        common::assert_bad_field(&err, "accept_time");
        // Not a timestamp at all.
        let mut garbage = accept_request(&id, &before.etag);
        garbage.accept_time = Some(prost_types::Timestamp {
            seconds: 0,
            nanos: -5,
        });
        let err = client.accept_agreement(garbage).await.unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "accept_time"),
            "OUT_OF_RANGE"
        );
        // Contact fields are validated.
        let mut bad = accept_request(&id, &before.etag);
        bad.contact_name = "   ".into();
        bad.contact_email = "ana-at-example.com".into();
        let err = client.accept_agreement(bad).await.unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "contact_name"), "REQUIRED");
        assert_eq!(common::assert_bad_field(&err, "contact_email"), "MALFORMED");
        assert_eq!(get(app, "de", &id).await, before, "nothing changed");

        // A past time is recorded as given.
        let signed = common::start_of_test_time() - chrono::Duration::days(2);
        let mut request = accept_request(&id, &before.etag);
        request.accept_time = Some(timestamp(signed));
        let after = accept_agreement(&mut client, request).await;
        let agreement = after.agreement.clone().unwrap();
        assert_eq!(agreement.contact_name, "Ana Ribeiro");
        assert_eq!(agreement.contact_email, "ana@contoso.example.com");
        assert_eq!(agreement.accept_time, Some(timestamp(signed)));
        assert_ne!(after.etag, before.etag);
        assert_eq!(
            after.update_time,
            Some(timestamp(common::start_of_test_time()))
        );
        assert_eq!(get(app, "de", &id).await, after);

        // The stale etag is refused.
        let err = client
            .accept_agreement(accept_request(&id, &before.etag))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        assert_eq!(reason(&err), "ETAG_MISMATCH");
        assert_eq!(get(app, "de", &id).await, after);

        // Without a time, now is recorded.
        app.clock.advance(chrono::Duration::minutes(30));
        let again = accept_agreement(&mut client, accept_request(&id, &after.etag)).await;
        assert_eq!(
            again.agreement.unwrap().accept_time,
            Some(timestamp(
                common::start_of_test_time() + chrono::Duration::minutes(30)
            ))
        );
        // An unknown customer.
        let err = client
            .accept_agreement(accept_request(&common::unknown_id(), ""))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    changes_are_idempotent_on_their_request_id,
    async |app: &TestApp| {
        let id = TestApp::customer_id("de-alpine-ski-house");
        let mut client = app.customers("de", Role::AdminAgent);
        let before = get(app, "de", &id).await;

        // SubmitQualification: a retry after a lost answer returns the first result,
        // although the etag it carries is stale by then.
        let mut request = submit_request(&id, &before.etag, STATE_OWNED);
        request.request_id = "qualify-1".into();
        let first = submit(&mut client, request.clone()).await;
        assert_ne!(first.etag, before.etag);
        app.clock.advance(chrono::Duration::minutes(1));
        let retried = client
            .submit_qualification(request.clone())
            .await
            .unwrap_or_else(|e| panic!("a retry is no conflict: {e:?}"))
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(retried, first);
        assert_eq!(get(app, "de", &id).await, first, "applied once");
        // The same request id with another body is refused.
        let mut other = request.clone();
        other.kind = EDUCATION;
        other.education_segment = pb::EducationSegment::HigherEducation.into();
        let err = client.submit_qualification(other).await.unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "request_id"),
            "REQUEST_ID_REUSED"
        );

        // AcceptAgreement, without a time: the retry keeps the first acceptance time.
        let mut accept = accept_request(&id, &first.etag);
        accept.request_id = "accept-1".into();
        let accepted = accept_agreement(&mut client, accept.clone()).await;
        app.clock.advance(chrono::Duration::minutes(1));
        let retried = client
            .accept_agreement(accept.clone())
            .await
            .unwrap_or_else(|e| panic!("a retry is no conflict: {e:?}"))
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(retried, accepted);
        assert_eq!(get(app, "de", &id).await, accepted, "applied once");
        let mut other = accept.clone();
        other.contact_name = "Somebody Else".into();
        let err = client.accept_agreement(other).await.unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "request_id"),
            "REQUEST_ID_REUSED"
        );
        // A request id belongs to one operation.
        let mut crossed = accept_request(&id, "");
        crossed.request_id = "qualify-1".into();
        let err = client.accept_agreement(crossed).await.unwrap_err();
        common::assert_bad_field(&err, "request_id");
        client
            .create_customer(create_request("create-once"))
            .await
            .unwrap();
        let mut crossed = submit_request(&id, "", STATE_OWNED);
        crossed.request_id = "create-once".into();
        let err = client.submit_qualification(crossed).await.unwrap_err();
        common::assert_bad_field(&err, "request_id");

        // A refused change does not use up its request id.
        let mut stale = submit_request(&id, &before.etag, EDUCATION);
        stale.request_id = "qualify-2".into();
        let err = client
            .submit_qualification(stale.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        stale.etag = accepted.etag.clone();
        let done = submit(&mut client, stale).await;
        assert_eq!(done.qualifications.len(), 2);

        // Concurrent copies of one request (a retry racing its first attempt) apply it once.
        let latest = get(app, "de", &id).await;
        let mut request = submit_request(&id, &latest.etag, EDUCATION);
        request.request_id = "qualify-race".into();
        let answers = futures::future::join_all((0..4).map(|_| {
            let mut client = client.clone();
            let request = request.clone();
            async move { client.submit_qualification(request).await }
        }))
        .await;
        let answers: Vec<pb::Customer> = answers
            .into_iter()
            .map(|a| a.unwrap().into_inner().customer.unwrap())
            .collect();
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
        assert_ne!(answers[0].etag, latest.etag);
        assert_eq!(get(app, "de", &id).await, answers[0]);

        // Request ids are per partner: another partner may use the same one.
        let mut theirs = submit_request(&TestApp::customer_id("us-fabrikam"), "", STATE_OWNED);
        theirs.request_id = "qualify-1".into();
        app.customers("us", Role::AdminAgent)
            .submit_qualification(theirs)
            .await
            .unwrap();
    }
);

/// A change that spoils a good CreateCustomer request, the field it spoils and the reason the
/// refusal gives.
type Refusal = (
    fn(&mut pb::CreateCustomerRequest),
    &'static str,
    &'static str,
);

on_both_backends!(create_validates_every_field, async |app: &TestApp| {
    let mut client = app.customers("us", Role::SalesAgent);
    let refused =
        |change: fn(&mut pb::CreateCustomerRequest), field: &'static str, why: &'static str| {
            let mut request = create_request(&rid());
            change(&mut request);
            let mut client = client.clone();
            async move {
                let err = client.create_customer(request.clone()).await.unwrap_err();
                let reason = common::assert_bad_field(&err, field);
                assert_eq!(reason, why, "{request:?}");
                let info = common::details(&err).error_info().cloned().unwrap();
                assert_eq!(info.domain, "csp-commerce");
                assert_eq!(info.reason, why);
            }
        };
    let cases: [Refusal; 23] = [
        (
            |r| r.company_name = String::new(),
            "company_name",
            "REQUIRED",
        ),
        (
            |r| r.company_name = " \t ".into(),
            "company_name",
            "REQUIRED",
        ),
        (
            |r| r.company_name = "x".repeat(257),
            "company_name",
            "TOO_LONG",
        ),
        (
            |r| r.company_name = "é".repeat(257),
            "company_name",
            "TOO_LONG",
        ),
        (
            |r| r.company_name = "Bad\u{0}Name".into(),
            "company_name",
            "MALFORMED",
        ),
        (|r| r.country = "XX".into(), "country", "UNKNOWN_COUNTRY"),
        (|r| r.country = "USA".into(), "country", "UNKNOWN_COUNTRY"),
        (|r| r.country = "1".into(), "country", "UNKNOWN_COUNTRY"),
        (|r| r.country = String::new(), "country", "REQUIRED"),
        (|r| r.email = String::new(), "email", "REQUIRED"),
        (|r| r.email = "not-an-email".into(), "email", "MALFORMED"),
        (|r| r.email = "a@b".into(), "email", "MALFORMED"),
        (|r| r.email = "a b@c.com".into(), "email", "MALFORMED"),
        (|r| r.email = "a@@c.com".into(), "email", "MALFORMED"),
        (
            |r| r.email = format!("{}@example.com", "a".repeat(250)),
            "email",
            "TOO_LONG",
        ),
        (
            |r| r.domain = "bad domain.com".into(),
            "domain",
            "MALFORMED",
        ),
        (|r| r.domain = "-x.com".into(), "domain", "MALFORMED"),
        (|r| r.domain = "x..com".into(), "domain", "MALFORMED"),
        (|r| r.domain = "localhost".into(), "domain", "MALFORMED"),
        (
            |r| r.domain = format!("{}.com", "a".repeat(64)),
            "domain",
            "MALFORMED",
        ),
        (|r| r.request_id = String::new(), "request_id", "REQUIRED"),
        (
            |r| r.request_id = "has space".into(),
            "request_id",
            "MALFORMED",
        ),
        (
            |r| r.request_id = "r".repeat(129),
            "request_id",
            "MALFORMED",
        ),
    ];
    for (change, field, why) in cases {
        refused(change, field, why).await;
    }

    // At the limits: 256 characters (not bytes) are fine.
    for name in ["x".repeat(256), "é".repeat(256)] {
        let mut request = create_request(&rid());
        request.company_name = name.clone();
        let c = create_customer(&mut client, request).await;
        assert_eq!(c.company_name, name);
    }

    // Every bad field is reported at once.
    let err = client
        .create_customer(pb::CreateCustomerRequest {
            request_id: String::new(),
            company_name: String::new(),
            country: "XX".into(),
            email: "nope".into(),
            domain: "no".into(),
        })
        .await
        .unwrap_err();
    for field in ["request_id", "company_name", "country", "email", "domain"] {
        common::assert_bad_field(&err, field);
    }
    assert_eq!(
        common::details(&err)
            .bad_request()
            .unwrap()
            .field_violations
            .len(),
        5
    );
    // Nothing was created by the refused calls: 4 seeded + 2 created.
    let listed = client
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.customers.len(), 6);
});

on_both_backends!(
    malformed_ids_and_unknown_enums_are_invalid_arguments,
    async |app: &TestApp| {
        let mut client = app.customers("us", Role::AdminAgent);
        for bad in [
            "",
            "not-a-uuid",
            "123",
            "d752e4e8-b024-505a-bcbf-8881ad9e5cf",
            "d752e4e8-b024-505a-bcbf-8881ad9e5cfbb",
            "d752e4e8-b024-505a-bcbf-8881ad9e5cfg",
        ] {
            let expected = if bad.is_empty() {
                "REQUIRED"
            } else {
                "MALFORMED"
            };
            let err = client
                .get_customer(pb::GetCustomerRequest {
                    customer_id: bad.into(),
                })
                .await
                .unwrap_err();
            assert_eq!(
                common::assert_bad_field(&err, "customer_id"),
                expected,
                "{bad:?}"
            );
            let err = client
                .submit_qualification(submit_request(bad, "", STATE_OWNED))
                .await
                .unwrap_err();
            assert_eq!(common::assert_bad_field(&err, "customer_id"), expected);
            let err = client
                .accept_agreement(accept_request(bad, ""))
                .await
                .unwrap_err();
            assert_eq!(common::assert_bad_field(&err, "customer_id"), expected);
        }
        // Unknown enum numbers.
        let id = TestApp::customer_id("us-fabrikam");
        for (kind, segment, field) in [
            (99, 0, "kind"),
            (-1, 0, "kind"),
            (EDUCATION, 99, "education_segment"),
        ] {
            let err = client
                .submit_qualification(pb::SubmitQualificationRequest {
                    kind,
                    education_segment: segment,
                    ..submit_request(&id, "", STATE_OWNED)
                })
                .await
                .unwrap_err();
            assert_eq!(common::assert_bad_field(&err, field), "UNKNOWN_ENUM_VALUE");
        }
        let err = app
            .catalog("us", Role::SalesAgent)
            .list_products(pb::ListProductsRequest {
                filter: Some(pb::CatalogFilter {
                    segment: 99,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "filter.segment"),
            "UNKNOWN_ENUM_VALUE"
        );
        let err = app
            .catalog("us", Role::SalesAgent)
            .list_products(pb::ListProductsRequest {
                view: 7,
                ..Default::default()
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "view");
    }
);

on_both_backends!(
    helpdesk_agents_may_read_but_not_write,
    async |app: &TestApp| {
        let id = TestApp::customer_id("us-fabrikam");
        let mut helpdesk = app.customers("us", Role::HelpdeskAgent);
        let before = get(app, "us", &id).await;
        let listed = helpdesk
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.customers.len(), 4);

        let err = helpdesk
            .create_customer(create_request("helpdesk-create"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert_eq!(reason(&err), "ROLE_NOT_ALLOWED");
        let err = helpdesk
            .submit_qualification(submit_request(&id, &before.etag, STATE_OWNED))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(reason(&err), "ROLE_NOT_ALLOWED");
        let err = helpdesk
            .accept_agreement(accept_request(&id, &before.etag))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(reason(&err), "ROLE_NOT_ALLOWED");

        // Nothing changed, nothing was created, and the request id is still free.
        assert_eq!(get(app, "us", &id).await, before);
        let listed = helpdesk
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.customers.len(), 4);
        app.customers("us", Role::SalesAgent)
            .create_customer(create_request("helpdesk-create"))
            .await
            .unwrap();
    }
);

on_both_backends!(the_catalog_admin_has_no_customers, async |app: &TestApp| {
    let token = app.token(None, Role::CatalogAdmin);
    let mut admin = app.customers_with(TestApp::raw_bearer(Some(&format!("Bearer {token}"))));
    let id = TestApp::customer_id("us-fabrikam");
    let mut denied = Vec::new();
    denied.push(
        admin
            .get_customer(pb::GetCustomerRequest {
                customer_id: id.clone(),
            })
            .await
            .unwrap_err(),
    );
    denied.push(
        admin
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap_err(),
    );
    denied.push(
        admin
            .create_customer(create_request("admin-create"))
            .await
            .unwrap_err(),
    );
    denied.push(
        admin
            .submit_qualification(submit_request(&id, "", STATE_OWNED))
            .await
            .unwrap_err(),
    );
    denied.push(
        admin
            .accept_agreement(accept_request(&id, ""))
            .await
            .unwrap_err(),
    );
    for err in &denied {
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(
            ["PARTNER_ROLE_REQUIRED", "ROLE_NOT_ALLOWED"].contains(&reason(err).as_str()),
            "{err:?}"
        );
    }
    assert_eq!(reason(&denied[0]), "PARTNER_ROLE_REQUIRED");
    assert_eq!(reason(&denied[1]), "PARTNER_ROLE_REQUIRED");

    // The operator role is no partner role, even when its token names a partner.
    let token = app.token(Some("us"), Role::CatalogAdmin);
    let bearer = TestApp::raw_bearer(Some(&format!("Bearer {token}")));
    let mut admin = app.customers_with(bearer.clone());
    let err = admin
        .get_customer(pb::GetCustomerRequest {
            customer_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(reason(&err), "PARTNER_ROLE_REQUIRED");
    let err = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let mut catalog = app.catalog_with(bearer);
    let err = catalog
        .list_products(pb::ListProductsRequest {
            filter: Some(pb::CatalogFilter {
                purchasable_by_customer_id: id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // The catalog itself is open to it.
    catalog
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC0LH18".into(),
        })
        .await
        .unwrap();
});
