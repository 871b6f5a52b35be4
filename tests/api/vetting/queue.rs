//! The operator's review queue: the oldest submission first, whoever's customer it is, paged
//! stably while verdicts empty it.

use super::{queue, submit};
use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::grpc::pb;
use pb::QualificationKind::{Education, StateOwnedEntity};

/// (partner, customer, kind) of the submissions, the highest customer id first: a queue in
/// customer order would list them backwards.
fn submissions() -> Vec<(&'static str, String, pb::QualificationKind)> {
    let mut all = vec![
        ("us", TestApp::customer_id("us-fabrikam"), Education),
        (
            "us",
            TestApp::customer_id("us-woodgrove-de"),
            StateOwnedEntity,
        ),
        ("de", TestApp::customer_id("de-tailspin"), StateOwnedEntity),
        ("de", TestApp::customer_id("de-alpine-ski-house"), Education),
        ("sk", TestApp::customer_id("sk-proseware"), StateOwnedEntity),
    ];
    all.sort_by(|a, b| b.1.cmp(&a.1));
    all
}

fn ids(reviews: &[pb::QualificationReview]) -> Vec<String> {
    reviews.iter().map(|r| r.customer_id.clone()).collect()
}

on_both_backends!(
    the_review_queue_lists_the_oldest_submission_first,
    async |app: &TestApp| {
        // The seed's two are in review already (set when it loaded, by the wall clock).
        let seeded = [
            TestApp::customer_id("us-bellows-college"),
            TestApp::customer_id("gcc-blue-yonder"),
        ];
        let mine = |reviews: &[pb::QualificationReview]| -> Vec<String> {
            ids(reviews)
                .into_iter()
                .filter(|id| !seeded.contains(id))
                .collect()
        };
        assert_eq!(queue(app).await.len(), 2);

        // Three a minute apart, then two at the same instant: those two in customer order.
        let submitted = submissions();
        for (n, (partner, customer, kind)) in submitted.iter().enumerate() {
            if n <= 3 {
                app.clock.advance(chrono::Duration::minutes(1));
            }
            submit(app, partner, common::submission(customer, *kind))
                .await
                .unwrap();
        }
        let mut expected: Vec<String> = submitted.iter().map(|s| s.1.clone()).collect();
        expected[3..].sort();
        let listed = queue(app).await;
        assert_eq!(listed.len(), 2 + expected.len());
        assert_eq!(mine(&listed), expected, "in the order they were submitted");
        // Each with its submission time, never decreasing.
        let times: Vec<_> = listed
            .iter()
            .map(|r| {
                let t = r.qualification.as_ref().unwrap().submit_time.unwrap();
                (t.seconds, t.nanos)
            })
            .collect();
        assert!(times.is_sorted(), "{times:?}");

        // A withdrawn and submitted again submission goes to the back of the queue.
        let (partner, first, kind) = &submitted[0];
        app.customers(partner, csp_commerce::domain::customer::Role::AdminAgent)
            .withdraw_qualification(pb::WithdrawQualificationRequest {
                request_id: rid(),
                customer_id: first.clone(),
                etag: String::new(),
                kind: (*kind).into(),
            })
            .await
            .unwrap();
        app.clock.advance(chrono::Duration::minutes(1));
        submit(app, partner, common::submission(first, *kind))
            .await
            .unwrap();
        expected.rotate_left(1);
        assert_eq!(mine(&queue(app).await), expected);

        // Paging is stable while verdicts take submissions out of the queue: what a page
        // showed is not shown again, what follows it is not skipped.
        let whole = ids(&queue(app).await);
        let mut operator = app.operator();
        let page = operator
            .list_qualification_reviews(pb::ListQualificationReviewsRequest {
                page_size: 3,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ids(&page.reviews), whole[..3]);
        // One of this test's the page showed, and the last of those it did not, are approved.
        let shown = whole[..3].iter().find(|id| expected.contains(id)).unwrap();
        let unshown = whole[3..].iter().rfind(|id| expected.contains(id)).unwrap();
        for customer in [shown, unshown] {
            let i = submitted.iter().position(|s| &s.1 == customer).unwrap();
            common::review(app, customer, submitted[i].2, true, "").await;
        }
        let rest = operator
            .list_qualification_reviews(pb::ListQualificationReviewsRequest {
                page_size: 100,
                page_token: page.next_page_token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(rest.next_page_token.is_empty());
        let left: Vec<String> = whole[3..]
            .iter()
            .filter(|id| *id != unshown)
            .cloned()
            .collect();
        assert_eq!(ids(&rest.reviews), left);
    }
);
