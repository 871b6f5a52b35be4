//! Vetting: partners submit qualifications, the operator approves or denies them (and alone
//! grants Nonprofit); carts and checkout see a verdict at once, on every replica.

use std::time::{Duration, Instant};

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::QualificationKind::{Education, Gcc, Nonprofit, StateOwnedEntity};
use tonic::Code;

mod queue;

/// The US availability of Microsoft 365 E3's `sku` in `segment` (0002 nonprofit, 0005
/// education).
async fn item(app: &TestApp, sku: &str, segment: pb::Segment) -> pb::Availability {
    app.catalog("us", Role::SalesAgent)
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: "CFQ7TTC02ROY".into(),
            sku_id: sku.into(),
            country: "US".into(),
            segment: segment.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .availabilities
        .remove(0)
}

fn line(item: &pb::Availability) -> pb::CartLineInput {
    pb::CartLineInput {
        catalog_item_id: item.catalog_item_id.clone(),
        quantity: 1,
        term: item.terms[0].term,
        billing_cycle: item.terms[0].billing_cycle,
        provisioning_context: None,
    }
}

/// The problems of buying one of `item` for `customer_id` (a catalog check on `app`).
async fn problems(
    app: &TestApp,
    customer_id: &str,
    item: &pb::Availability,
) -> Vec<pb::PurchaseProblem> {
    let line = line(item);
    app.catalog("us", Role::SalesAgent)
        .check_purchasability(pb::CheckPurchasabilityRequest {
            month: String::new(),
            customer_id: customer_id.into(),
            catalog_item_id: line.catalog_item_id,
            quantity: line.quantity,
            term: line.term,
            billing_cycle: line.billing_cycle,
        })
        .await
        .unwrap()
        .into_inner()
        .problems
}

fn codes(problems: &[pb::PurchaseProblem]) -> Vec<&str> {
    problems.iter().map(common::code).collect()
}

async fn submit(
    app: &TestApp,
    partner: &str,
    request: pb::SubmitQualificationRequest,
) -> Result<pb::Customer, tonic::Status> {
    app.customers(partner, Role::AdminAgent)
        .submit_qualification(request)
        .await
        .map(|r| r.into_inner().customer.unwrap())
}

async fn queue(app: &TestApp) -> Vec<pb::QualificationReview> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .operator()
            .list_qualification_reviews(pb::ListQualificationReviewsRequest {
                page_size: 1,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.reviews.len() <= 1);
        out.extend(page.reviews);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn review_request(
    customer_id: &str,
    kind: pb::QualificationKind,
    decision: pb::ReviewDecision,
    reason: &str,
) -> pb::ReviewQualificationRequest {
    pb::ReviewQualificationRequest {
        request_id: rid(),
        customer_id: customer_id.into(),
        etag: String::new(),
        kind: kind.into(),
        decision: decision.into(),
        reason: reason.into(),
    }
}

on_both_backends!(
    an_approved_submission_opens_its_segment_at_once,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let education = item(app, "0005", pb::Segment::Education).await;
        assert_eq!(
            codes(&problems(app, &fabrikam, &education).await),
            ["SEGMENT_NOT_ALLOWED"]
        );

        let submitted = submit(app, "us", common::submission(&fabrikam, Education))
            .await
            .unwrap();
        assert_eq!(
            submitted.qualifications[0].vetting_status(),
            pb::VettingStatus::InReview
        );
        // In review opens nothing.
        let p = problems(app, &fabrikam, &education).await;
        assert_eq!(codes(&p), ["SEGMENT_NOT_ALLOWED"]);
        assert!(p[0].message.contains("in_review"), "{p:?}");
        // The cart is made now, reviewed with the problem.
        let mut carts = app.carts("us", Role::SalesAgent);
        let cart = carts
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: fabrikam.clone(),
                lines: vec![line(&education)],
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert_eq!(codes(&cart.lines[0].problems), ["SEGMENT_NOT_ALLOWED"]);

        // The operator sees it in its queue, with whose it is and what was submitted.
        let queued = queue(app).await;
        let waiting = queued
            .iter()
            .find(|r| r.customer_id == fabrikam)
            .expect("Fabrikam's submission in the queue");
        assert_eq!(waiting.partner_id, TestApp::partner_id("us").to_string());
        assert_eq!(waiting.customer_id, fabrikam);
        assert_eq!(waiting.company_name, submitted.company_name);
        let q = waiting.qualification.as_ref().unwrap();
        assert_eq!(q.kind(), Education);
        assert_eq!(q.education_segment(), pb::EducationSegment::K12);
        assert!(q.submit_time.is_some());

        let approved = app
            .operator()
            .review_qualification(pb::ReviewQualificationRequest {
                etag: submitted.etag.clone(),
                ..review_request(&fabrikam, Education, pb::ReviewDecision::Approve, "")
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        let q = &approved.qualifications[0];
        assert_eq!(q.vetting_status(), pb::VettingStatus::Approved);
        assert!(q.review_time.is_some());
        assert!(
            queue(app).await.iter().all(|r| r.customer_id != fabrikam),
            "out of the queue"
        );
        // At once: the cart's review and its checkout.
        let cart = carts
            .get_cart(pb::GetCartRequest {
                cart_id: cart.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert!(cart.lines[0].problems.is_empty(), "{cart:?}");
        let order = carts
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap();
        assert!(order.into_inner().order.is_some());
        // An approved qualification is not reviewed again.
        let err = app
            .operator()
            .review_qualification(review_request(
                &fabrikam,
                Education,
                pb::ReviewDecision::Deny,
                "late",
            ))
            .await
            .unwrap_err();
        assert_eq!(common::violations(&err)[0].r#type, "NOT_IN_REVIEW");
    }
);

on_both_backends!(
    a_denial_says_why_and_the_item_is_refused_with_it,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let education = item(app, "0005", pb::Segment::Education).await;
        submit(app, "us", common::submission(&fabrikam, Education))
            .await
            .unwrap();
        let mut operator = app.operator();
        // A denial needs a reason.
        let err = operator
            .review_qualification(review_request(
                &fabrikam,
                Education,
                pb::ReviewDecision::Deny,
                " ",
            ))
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "reason"), "REQUIRED");
        let err = operator
            .review_qualification(review_request(
                &fabrikam,
                Education,
                pb::ReviewDecision::Unspecified,
                "",
            ))
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "decision"), "REQUIRED");
        let denied = operator
            .review_qualification(review_request(
                &fabrikam,
                Education,
                pb::ReviewDecision::Deny,
                "no accreditation on record",
            ))
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        let q = &denied.qualifications[0];
        assert_eq!(q.vetting_status(), pb::VettingStatus::Denied);
        assert_eq!(q.review_reason, "no accreditation on record");
        let p = problems(app, &fabrikam, &education).await;
        assert_eq!(codes(&p), ["SEGMENT_NOT_ALLOWED"]);
        assert!(p[0].message.contains("no accreditation on record"), "{p:?}");
        // The partner may submit again: in review, the old verdict gone.
        let again = submit(app, "us", common::submission(&fabrikam, Education))
            .await
            .unwrap();
        let q = &again.qualifications[0];
        assert_eq!(q.vetting_status(), pb::VettingStatus::InReview);
        assert_eq!(q.review_reason, "");
        assert_eq!(q.review_time, None);
    }
);

on_both_backends!(partners_submit_only_what_they_may, async |app: &TestApp| {
    let fabrikam = TestApp::customer_id("us-fabrikam");
    // GCC needs a validation code, of the right shape.
    let err = submit(
        app,
        "us",
        pb::SubmitQualificationRequest {
            gcc_validation_code: String::new(),
            ..common::submission(&fabrikam, Gcc)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "gcc_validation_code"),
        "REQUIRED"
    );
    let err = submit(
        app,
        "us",
        pb::SubmitQualificationRequest {
            gcc_validation_code: "no spaces!".into(),
            ..common::submission(&fabrikam, Gcc)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "gcc_validation_code"),
        "MALFORMED"
    );
    // ... and a GCC partner.
    let err = submit(app, "us", common::submission(&fabrikam, Gcc))
        .await
        .unwrap_err();
    assert_eq!(common::violations(&err)[0].r#type, "PARTNER_NOT_GCC");
    let yonder = TestApp::customer_id("gcc-blue-yonder");
    let gcc = submit(app, "gcc", common::submission(&yonder, Gcc))
        .await
        .unwrap();
    let q = gcc.qualifications.iter().find(|q| q.kind() == Gcc).unwrap();
    assert_eq!(q.gcc_validation_code, common::GCC_CODE);
    assert_eq!(q.vetting_status(), pb::VettingStatus::InReview);
    // Education needs its segment, and no GCC code.
    let err = submit(
        app,
        "us",
        pb::SubmitQualificationRequest {
            education_segment: 0,
            ..common::submission(&fabrikam, Education)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "education_segment"),
        "REQUIRED"
    );
    let err = submit(
        app,
        "us",
        pb::SubmitQualificationRequest {
            gcc_validation_code: common::GCC_CODE.into(),
            ..common::submission(&fabrikam, Education)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "gcc_validation_code"),
        "NOT_APPLICABLE"
    );
    // Nonprofit comes from the operator: neither submitted nor withdrawn by a partner.
    let err = submit(app, "us", common::submission(&fabrikam, Nonprofit))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(common::reason(&err), "NONPROFIT_FROM_OPERATOR");
    let northwind = TestApp::customer_id("us-northwind-foundation");
    let err = app
        .customers("us", Role::AdminAgent)
        .withdraw_qualification(pb::WithdrawQualificationRequest {
            request_id: rid(),
            customer_id: northwind,
            etag: String::new(),
            kind: Nonprofit.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(common::reason(&err), "NONPROFIT_FROM_OPERATOR");
    // An approved qualification is not put back in review.
    common::set_qualifications(
        app,
        "us",
        &fabrikam,
        &[(StateOwnedEntity, pb::VettingStatus::Approved)],
    )
    .await;
    let err = submit(app, "us", common::submission(&fabrikam, StateOwnedEntity))
        .await
        .unwrap_err();
    assert_eq!(common::violations(&err)[0].r#type, "ALREADY_APPROVED");
    // None of the refused submissions is in the operator's queue.
    let mut waiting: Vec<_> = queue(app)
        .await
        .into_iter()
        .map(|r| r.customer_id)
        .collect();
    waiting.sort();
    // The seed's two in review (Bellows College's Education, Blue Yonder's GCC).
    let mut expected = vec![TestApp::customer_id("us-bellows-college"), yonder];
    expected.sort();
    assert_eq!(waiting, expected);
});

on_both_backends!(
    the_review_queue_and_verdicts_are_the_operators_alone,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let alpine = TestApp::customer_id("de-alpine-ski-house");
        submit(app, "us", common::submission(&fabrikam, Education))
            .await
            .unwrap();
        submit(app, "de", common::submission(&alpine, StateOwnedEntity))
            .await
            .unwrap();
        // No partner role sees the queue, nor gives a verdict.
        for (partner, role) in [("us", Role::GlobalAdmin), ("de", Role::AdminAgent)] {
            let mut as_partner =
                app.operator_with(TestApp::token_bearer(&app.token(Some(partner), role)));
            let err = as_partner
                .list_qualification_reviews(pb::ListQualificationReviewsRequest::default())
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied);
            assert_eq!(common::reason(&err), "ROLE_NOT_ALLOWED");
            let err = as_partner
                .review_qualification(review_request(
                    &fabrikam,
                    Education,
                    pb::ReviewDecision::Approve,
                    "",
                ))
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied);
            let err = as_partner
                .set_nonprofit(pb::SetNonprofitRequest {
                    request_id: rid(),
                    customer_id: fabrikam.clone(),
                    etag: String::new(),
                    decision: pb::ReviewDecision::Approve.into(),
                    reason: String::new(),
                })
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied);
        }
        // Partner B cannot even submit for partner A's customer: it does not exist for B.
        let err = submit(app, "de", common::submission(&fabrikam, StateOwnedEntity))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        // The operator sees both partners' submissions, each once, with whose they are.
        let mut seen: Vec<(String, String)> = queue(app)
            .await
            .into_iter()
            .map(|r| (r.partner_id, r.customer_id))
            .collect();
        seen.sort();
        // With the seed's two in review.
        let mut expected = vec![
            (TestApp::partner_id("us").to_string(), fabrikam.clone()),
            (TestApp::partner_id("de").to_string(), alpine.clone()),
            (
                TestApp::partner_id("us").to_string(),
                TestApp::customer_id("us-bellows-college"),
            ),
            (
                TestApp::partner_id("gcc").to_string(),
                TestApp::customer_id("gcc-blue-yonder"),
            ),
        ];
        expected.sort();
        assert_eq!(seen, expected);
        // Nothing a partner tried changed the submission.
        let fab = app
            .customers("us", Role::HelpdeskAgent)
            .get_customer(pb::GetCustomerRequest {
                customer_id: fabrikam,
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(fab.qualifications.len(), 1);
        assert_eq!(
            fab.qualifications[0].vetting_status(),
            pb::VettingStatus::InReview
        );
    }
);

on_both_backends!(
    nonprofit_is_granted_and_revoked_by_the_operator,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let nonprofit = item(app, "0002", pb::Segment::Nonprofit).await;
        assert_eq!(
            codes(&problems(app, &fabrikam, &nonprofit).await),
            ["SEGMENT_NOT_ALLOWED"]
        );
        let granted = common::set_nonprofit(app, &fabrikam, true).await;
        let q = &granted.qualifications[0];
        assert_eq!(
            (q.kind(), q.vetting_status()),
            (Nonprofit, pb::VettingStatus::Approved)
        );
        assert_eq!(q.submit_time, None, "no partner submitted it");
        assert!(problems(app, &fabrikam, &nonprofit).await.is_empty());
        let err = app
            .operator()
            .set_nonprofit(pb::SetNonprofitRequest {
                request_id: rid(),
                customer_id: fabrikam.clone(),
                etag: String::new(),
                decision: pb::ReviewDecision::Deny.into(),
                reason: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "reason"), "REQUIRED");
        common::set_nonprofit(app, &fabrikam, false).await;
        let p = problems(app, &fabrikam, &nonprofit).await;
        assert_eq!(codes(&p), ["SEGMENT_NOT_ALLOWED"]);
        assert!(p[0].message.contains("not a registered charity"), "{p:?}");
        // An unknown customer, for the operator too.
        let err = app
            .operator()
            .review_qualification(review_request(
                &common::unknown_id(),
                Education,
                pb::ReviewDecision::Approve,
                "",
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

/// Far below the standings' 30 s age limit: only the notification explains a right answer.
const PROMPTLY: Duration = Duration::from_secs(5);

/// The problem codes of `cart`'s first line as `app` reviews it, once they are `expected`, or
/// what they still were after `PROMPTLY`.
async fn cart_codes_become(app: &TestApp, cart_id: &str, expected: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + PROMPTLY;
    loop {
        let cart = app
            .carts("us", Role::SalesAgent)
            .get_cart(pb::GetCartRequest {
                cart_id: cart_id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        let codes: Vec<String> = cart.lines[0]
            .problems
            .iter()
            .map(|p| common::code(p).to_owned())
            .collect();
        if codes == expected || Instant::now() > deadline {
            return codes;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_on_one_replica_is_seen_by_another_at_once() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let b = a.replica(|_| {}).await;
    let fabrikam = TestApp::customer_id("us-fabrikam");
    let education = item(&a, "0005", pb::Segment::Education).await;
    // B reviews (and keeps) the customer: education refused.
    let mut b_carts = b.carts("us", Role::SalesAgent);
    let cart = b_carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: fabrikam.clone(),
            lines: vec![line(&education)],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(
        cart_codes_become(&b, &cart.id, &["SEGMENT_NOT_ALLOWED"]).await,
        ["SEGMENT_NOT_ALLOWED"]
    );
    // Submitted and approved through A: B's review of the cart is clean, and B sells.
    submit(&a, "us", common::submission(&fabrikam, Education))
        .await
        .unwrap();
    common::review(&a, &fabrikam, Education, true, "").await;
    assert_eq!(
        cart_codes_become(&b, &cart.id, &[]).await,
        Vec::<String>::new()
    );
    // Withdrawn through A: B refuses again (a new cart: the first is about to be ordered).
    let second = b_carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: fabrikam.clone(),
            lines: vec![line(&education)],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let fresh = b_carts
        .get_cart(pb::GetCartRequest {
            cart_id: cart.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    b_carts
        .checkout(common::checkout_request(&fresh))
        .await
        .unwrap();
    a.customers("us", Role::AdminAgent)
        .withdraw_qualification(pb::WithdrawQualificationRequest {
            request_id: rid(),
            customer_id: fabrikam.clone(),
            etag: String::new(),
            kind: Education.into(),
        })
        .await
        .unwrap();
    assert_eq!(
        cart_codes_become(&b, &second.id, &["SEGMENT_NOT_ALLOWED"]).await,
        ["SEGMENT_NOT_ALLOWED"]
    );
    let second = b_carts
        .get_cart(pb::GetCartRequest {
            cart_id: second.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let refused = b_carts
        .checkout(common::checkout_request(&second))
        .await
        .unwrap_err();
    assert_eq!(
        common::violations(&refused)[0].r#type,
        "SEGMENT_NOT_ALLOWED"
    );
    b.stop().await;
    a.stop().await;
}
