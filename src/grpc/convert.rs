//! Conversions between wire messages and domain values. Parsing lives here: what reaches a
//! service is valid.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use super::pb;
use crate::domain::DomainError;
use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, Catalog, Product, ProductType, Segment, SkuView, Term,
    TermPrice,
};
use crate::domain::customer::{Customer, QualificationKind, VettingStatus};
use crate::domain::eligibility::Problem;
use crate::domain::ids::CountryCode;
use crate::domain::money::Money;

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn parse_timestamp(field: &str, ts: &Timestamp) -> Result<DateTime<Utc>, DomainError> {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                "OUT_OF_RANGE",
                format!("{field} is not a valid timestamp"),
            )
        })
}

pub fn money(m: Money) -> pb::Money {
    let (units, nanos) = m.units_and_nanos();
    pb::Money {
        currency_code: m.currency.code().to_owned(),
        units,
        nanos,
    }
}

/// An optional country filter: empty means any.
pub fn optional_country(field: &str, value: &str) -> Result<Option<CountryCode>, DomainError> {
    if value.is_empty() {
        Ok(None)
    } else {
        CountryCode::parse(field, value).map(Some)
    }
}

/// Reads an enum field: the raw number must be a known value.
fn known<T: TryFrom<i32>>(field: &str, raw: i32) -> Result<T, DomainError> {
    T::try_from(raw).map_err(|_| {
        DomainError::invalid(
            field,
            "UNKNOWN_ENUM_VALUE",
            format!("{field} {raw} is not a known value"),
        )
    })
}

pub fn optional_segment(field: &str, raw: i32) -> Result<Option<Segment>, DomainError> {
    Ok(match known::<pb::Segment>(field, raw)? {
        pb::Segment::Unspecified => None,
        pb::Segment::Commercial => Some(Segment::Commercial),
        pb::Segment::Education => Some(Segment::Education),
        pb::Segment::Government => Some(Segment::Government),
        pb::Segment::Nonprofit => Some(Segment::Nonprofit),
    })
}

pub fn segment(s: Segment) -> pb::Segment {
    match s {
        Segment::Commercial => pb::Segment::Commercial,
        Segment::Education => pb::Segment::Education,
        Segment::Government => pb::Segment::Government,
        Segment::Nonprofit => pb::Segment::Nonprofit,
    }
}

pub fn optional_product_type(field: &str, raw: i32) -> Result<Option<ProductType>, DomainError> {
    Ok(match known::<pb::ProductType>(field, raw)? {
        pb::ProductType::Unspecified => None,
        pb::ProductType::OnlineServices => Some(ProductType::OnlineServices),
        pb::ProductType::Azure => Some(ProductType::Azure),
        pb::ProductType::Software => Some(ProductType::Software),
        pb::ProductType::Marketplace => Some(ProductType::Marketplace),
    })
}

pub fn product_type(t: ProductType) -> pb::ProductType {
    match t {
        ProductType::OnlineServices => pb::ProductType::OnlineServices,
        ProductType::Azure => pb::ProductType::Azure,
        ProductType::Software => pb::ProductType::Software,
        ProductType::Marketplace => pb::ProductType::Marketplace,
    }
}

pub fn optional_billing_type(field: &str, raw: i32) -> Result<Option<BillingType>, DomainError> {
    Ok(match known::<pb::BillingType>(field, raw)? {
        pb::BillingType::Unspecified => None,
        pb::BillingType::License => Some(BillingType::License),
        pb::BillingType::Usage => Some(BillingType::Usage),
    })
}

pub fn billing_type(t: BillingType) -> pb::BillingType {
    match t {
        BillingType::License => pb::BillingType::License,
        BillingType::Usage => pb::BillingType::Usage,
    }
}

pub fn term(field: &str, raw: i32) -> Result<Term, DomainError> {
    match known::<pb::TermDuration>(field, raw)? {
        pb::TermDuration::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::TermDuration::P1m => Ok(Term::P1M),
        pb::TermDuration::P1y => Ok(Term::P1Y),
        pb::TermDuration::P3y => Ok(Term::P3Y),
        pb::TermDuration::None => Ok(Term::None),
    }
}

pub fn term_to_pb(t: Term) -> pb::TermDuration {
    match t {
        Term::P1M => pb::TermDuration::P1m,
        Term::P1Y => pb::TermDuration::P1y,
        Term::P3Y => pb::TermDuration::P3y,
        Term::None => pb::TermDuration::None,
    }
}

pub fn billing_cycle(field: &str, raw: i32) -> Result<BillingCycle, DomainError> {
    match known::<pb::BillingCycle>(field, raw)? {
        pb::BillingCycle::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::BillingCycle::Monthly => Ok(BillingCycle::Monthly),
        pb::BillingCycle::Annual => Ok(BillingCycle::Annual),
        pb::BillingCycle::Triennial => Ok(BillingCycle::Triennial),
        pb::BillingCycle::OneTime => Ok(BillingCycle::OneTime),
        pb::BillingCycle::None => Ok(BillingCycle::None),
    }
}

pub fn billing_cycle_to_pb(c: BillingCycle) -> pb::BillingCycle {
    match c {
        BillingCycle::Monthly => pb::BillingCycle::Monthly,
        BillingCycle::Annual => pb::BillingCycle::Annual,
        BillingCycle::Triennial => pb::BillingCycle::Triennial,
        BillingCycle::OneTime => pb::BillingCycle::OneTime,
        BillingCycle::None => pb::BillingCycle::None,
    }
}

pub fn qualification_kind(field: &str, raw: i32) -> Result<QualificationKind, DomainError> {
    match known::<pb::QualificationKind>(field, raw)? {
        pb::QualificationKind::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::QualificationKind::Education => Ok(QualificationKind::Education),
        pb::QualificationKind::Nonprofit => Ok(QualificationKind::Nonprofit),
        pb::QualificationKind::Gcc => Ok(QualificationKind::Gcc),
        pb::QualificationKind::StateOwnedEntity => Ok(QualificationKind::StateOwnedEntity),
    }
}

pub fn vetting_status(field: &str, raw: i32) -> Result<VettingStatus, DomainError> {
    match known::<pb::VettingStatus>(field, raw)? {
        pb::VettingStatus::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::VettingStatus::InReview => Ok(VettingStatus::InReview),
        pb::VettingStatus::Approved => Ok(VettingStatus::Approved),
        pb::VettingStatus::Denied => Ok(VettingStatus::Denied),
    }
}

pub fn product(p: &Product, sku_count: usize) -> pb::Product {
    pb::Product {
        id: p.id.to_string(),
        title: p.title.clone(),
        description: p.description.clone(),
        product_type: product_type(p.product_type).into(),
        publisher: p.publisher.clone(),
        is_microsoft: p.is_microsoft(),
        billing_type: billing_type(p.billing_type).into(),
        category: p.category.clone(),
        sku_count: i32::try_from(sku_count).unwrap_or(i32::MAX),
    }
}

pub fn sku(v: &SkuView<'_>) -> pb::Sku {
    let s = v.sku;
    pb::Sku {
        product_id: s.product_id.to_string(),
        id: s.id.to_string(),
        title: s.title.clone(),
        description: s.description.clone(),
        product_title: v.product.title.clone(),
        min_quantity: s.min_quantity,
        max_quantity: s.max_quantity,
        is_trial: s.is_trial,
        is_addon: s.is_addon(),
        prerequisites: s
            .prerequisites
            .iter()
            .map(|(p, k)| pb::SkuRef {
                product_id: p.to_string(),
                sku_id: k.to_string(),
            })
            .collect(),
        seat_limit: s.seat_limit,
        seat_limit_type: s.seat_limit_type.clone(),
        unit_of_measure: s.unit_of_measure.clone(),
        provisioning_variables: s
            .provisioning_variables()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        countries: v.countries.iter().map(ToString::to_string).collect(),
        billing_cycles: v
            .billing_cycles
            .iter()
            .map(|c| billing_cycle_to_pb(*c).into())
            .collect(),
        product_type: product_type(v.product.product_type).into(),
        publisher: v.product.publisher.clone(),
    }
}

fn term_price(t: &TermPrice) -> pb::TermPrice {
    pb::TermPrice {
        term: term_to_pb(t.term).into(),
        billing_cycle: billing_cycle_to_pb(t.billing_cycle).into(),
        unit_price: Some(money(t.unit_price)),
        erp_price: Some(money(t.erp_price)),
        effective_start: Some(timestamp(t.effective_start)),
        effective_end: t.effective_end.map(timestamp),
    }
}

pub fn availability(a: &Availability, catalog: &Catalog) -> pb::Availability {
    pb::Availability {
        id: a.id.to_string(),
        product_id: a.product_id.to_string(),
        sku_id: a.sku_id.to_string(),
        catalog_item_id: a.catalog_item_id().to_string(),
        country: a.country.to_string(),
        segment: segment(a.segment).into(),
        currency_code: a.currency.code().to_owned(),
        terms: a.terms.iter().map(term_price).collect(),
        price_list_month: catalog.month().map(|m| m.to_string()).unwrap_or_default(),
        end_of_sale: a.end_of_sale.map(timestamp),
    }
}

pub fn problem(p: &Problem) -> pb::PurchaseProblem {
    pb::PurchaseProblem {
        code: p.code.to_owned(),
        message: p.message.clone(),
        field: p.field.to_owned(),
        figures: p
            .figures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

pub fn customer(c: &Customer) -> pb::Customer {
    pb::Customer {
        id: c.id.to_string(),
        company_name: c.company_name.clone(),
        country: c.country.to_string(),
        email: c.email.clone(),
        domain: c.domain.clone(),
        qualifications: c
            .qualifications
            .iter()
            .map(|q| pb::Qualification {
                kind: match q.kind {
                    QualificationKind::Education => pb::QualificationKind::Education,
                    QualificationKind::Nonprofit => pb::QualificationKind::Nonprofit,
                    QualificationKind::Gcc => pb::QualificationKind::Gcc,
                    QualificationKind::StateOwnedEntity => pb::QualificationKind::StateOwnedEntity,
                }
                .into(),
                vetting_status: match q.vetting {
                    VettingStatus::InReview => pb::VettingStatus::InReview,
                    VettingStatus::Approved => pb::VettingStatus::Approved,
                    VettingStatus::Denied => pb::VettingStatus::Denied,
                }
                .into(),
                update_time: Some(timestamp(q.updated_at)),
            })
            .collect(),
        agreement: c.agreement.as_ref().map(|a| pb::Agreement {
            contact_name: a.contact_name.clone(),
            contact_email: a.contact_email.clone(),
            accept_time: Some(timestamp(a.accepted_at)),
        }),
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
        etag: c.etag(),
    }
}

pub fn provisioning_to_pb(p: &crate::domain::cart::ProvisioningContext) -> pb::ProvisioningContext {
    pb::ProvisioningContext {
        parent_subscription_id: p
            .parent_subscription
            .map(|s| s.to_string())
            .unwrap_or_default(),
        scope: p.scope.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        azure_subscription_id: p
            .azure_subscription_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
    }
}

/// The largest quantity a request may carry; SKU maxima are far below.
pub const MAX_QUANTITY: i32 = 100_000_000;

/// Parses a cart line input; `field` prefixes the violated fields (e.g. `line` or `lines[2]`).
pub fn line_input(
    field: &str,
    line: pb::CartLineInput,
) -> Result<crate::domain::cart::LineInput, DomainError> {
    use crate::domain::cart::{LineInput, ProvisioningContext, Scope};
    use crate::domain::error::Violations;
    use crate::domain::ids::{CatalogItemId, SubscriptionId};
    let pb::CartLineInput {
        catalog_item_id,
        quantity,
        term: raw_term,
        billing_cycle: raw_cycle,
        provisioning_context,
    } = line;
    let mut v = Violations::new();
    let item = v.check(CatalogItemId::parse(
        &format!("{field}.catalog_item_id"),
        &catalog_item_id,
    ));
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        v.push(crate::domain::FieldViolation::new(
            format!("{field}.quantity"),
            "OUT_OF_RANGE",
            format!("quantity must be between 1 and {MAX_QUANTITY}, got {quantity}"),
        ));
    }
    let term = v.check(term(&format!("{field}.term"), raw_term));
    let cycle = v.check(billing_cycle(&format!("{field}.billing_cycle"), raw_cycle));
    let pb::ProvisioningContext {
        parent_subscription_id,
        scope,
        azure_subscription_id,
    } = provisioning_context.unwrap_or_default();
    let parent = if parent_subscription_id.is_empty() {
        None
    } else {
        v.check(SubscriptionId::parse(
            &format!("{field}.provisioning_context.parent_subscription_id"),
            &parent_subscription_id,
        ))
    };
    let scope = match scope.as_str() {
        "" => None,
        s => match Scope::parse(s) {
            Some(scope) => Some(scope),
            None => {
                v.push(crate::domain::FieldViolation::new(
                    format!("{field}.provisioning_context.scope"),
                    "UNKNOWN_VALUE",
                    "scope must be single or shared",
                ));
                None
            }
        },
    };
    let azure = if azure_subscription_id.is_empty() {
        None
    } else {
        match uuid::Uuid::parse_str(&azure_subscription_id) {
            Ok(id) => Some(id),
            Err(_) => {
                v.push(crate::domain::FieldViolation::new(
                    format!("{field}.provisioning_context.azure_subscription_id"),
                    "MALFORMED",
                    "azure_subscription_id must be a UUID",
                ));
                None
            }
        }
    };
    v.into_result()?;
    match (item, term, cycle) {
        (Some(item), Some(term), Some(billing_cycle)) => Ok(LineInput {
            item,
            quantity,
            term,
            billing_cycle,
            provisioning: ProvisioningContext {
                parent_subscription: parent,
                scope,
                azure_subscription_id: azure,
            },
        }),
        _ => Err(DomainError::Internal(
            "a parsed field was missing after validation".into(),
        )),
    }
}

pub fn cart(c: &crate::service::carts::ReviewedCart) -> pb::Cart {
    use crate::domain::cart::CartStatus;
    let status = match c.cart.status {
        CartStatus::Ordered => pb::CartStatus::Ordered,
        CartStatus::Active if c.expired => pb::CartStatus::Expired,
        CartStatus::Active => pb::CartStatus::Active,
    };
    pb::Cart {
        id: c.cart.id.to_string(),
        customer_id: c.cart.customer_id.to_string(),
        status: status.into(),
        lines: c
            .review
            .lines
            .iter()
            .map(|l| pb::CartLine {
                id: l.line.id.to_string(),
                catalog_item_id: l.line.input.item.to_string(),
                quantity: l.line.input.quantity,
                term: term_to_pb(l.line.input.term).into(),
                billing_cycle: billing_cycle_to_pb(l.line.input.billing_cycle).into(),
                provisioning_context: Some(provisioning_to_pb(&l.line.input.provisioning)),
                product_title: l.product_title.clone(),
                sku_title: l.sku_title.clone(),
                unit_price: l.unit_price.map(money),
                extended_price: l.extended_price.map(money),
                problems: l.problems.iter().map(problem).collect(),
            })
            .collect(),
        totals: c.review.totals.iter().copied().map(money).collect(),
        create_time: Some(timestamp(c.cart.created_at)),
        expire_time: Some(timestamp(c.cart.expires_at)),
        etag: c.cart.etag(),
        problems: c.review.problems.iter().map(problem).collect(),
        order_id: c.cart.order_id.map(|o| o.to_string()).unwrap_or_default(),
    }
}

pub fn order_status(s: crate::domain::order::OrderStatus) -> pb::OrderStatus {
    use crate::domain::order::OrderStatus;
    match s {
        OrderStatus::Pending => pb::OrderStatus::Pending,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
        OrderStatus::Failed => pb::OrderStatus::Failed,
    }
}

pub fn subscription_status(s: crate::domain::order::SubscriptionStatus) -> pb::SubscriptionStatus {
    use crate::domain::order::SubscriptionStatus;
    match s {
        SubscriptionStatus::Active => pb::SubscriptionStatus::Active,
        SubscriptionStatus::Suspended => pb::SubscriptionStatus::Suspended,
        SubscriptionStatus::Cancelled => pb::SubscriptionStatus::Cancelled,
        SubscriptionStatus::Expired => pb::SubscriptionStatus::Expired,
    }
}

pub fn order(o: &crate::domain::order::Order) -> pb::Order {
    pb::Order {
        id: o.id.to_string(),
        order_number: o.order_number.clone(),
        customer_id: o.customer_id.to_string(),
        cart_id: o.cart_id.to_string(),
        status: order_status(o.status).into(),
        currency_code: o.total.currency.code().to_owned(),
        lines: o
            .lines
            .iter()
            .map(|l| pb::OrderLine {
                line_number: l.line_number,
                catalog_item_id: l.item.to_string(),
                product_title: l.product_title.clone(),
                sku_title: l.sku_title.clone(),
                quantity: l.quantity,
                term: term_to_pb(l.term).into(),
                billing_cycle: billing_cycle_to_pb(l.billing_cycle).into(),
                unit_price: Some(money(l.unit_price)),
                extended_price: Some(money(l.extended_price)),
                subscription_id: l.subscription_id.to_string(),
            })
            .collect(),
        total: Some(money(o.total)),
        create_time: Some(timestamp(o.created_at)),
        cancel_time: o.cancelled_at.map(timestamp),
        refund: o.refund.map(money),
        etag: o.etag(),
    }
}

pub fn subscription(s: &crate::domain::order::Subscription) -> pb::Subscription {
    pb::Subscription {
        id: s.id.to_string(),
        customer_id: s.customer_id.to_string(),
        order_id: s.order_id.to_string(),
        catalog_item_id: s.item.to_string(),
        product_id: s.item.product.to_string(),
        sku_id: s.item.sku.to_string(),
        title: s.title.clone(),
        quantity: s.quantity,
        term: term_to_pb(s.term).into(),
        billing_cycle: billing_cycle_to_pb(s.billing_cycle).into(),
        status: subscription_status(s.status).into(),
        start_time: Some(timestamp(s.start_at)),
        commitment_end_time: s.commitment_end_at.map(timestamp),
        auto_renew: s.auto_renew,
        parent_subscription_id: s.parent.map(|p| p.to_string()).unwrap_or_default(),
        etag: s.etag(),
    }
}

pub fn change(c: &crate::domain::changes::CatalogChange) -> pb::CatalogChange {
    use crate::domain::changes::ChangeKind;
    pb::CatalogChange {
        revision: c.revision,
        month: c.month.to_string(),
        kind: match c.kind {
            ChangeKind::Added => pb::ChangeKind::Added,
            ChangeKind::Changed => pb::ChangeKind::Changed,
            ChangeKind::Ended => pb::ChangeKind::Ended,
        }
        .into(),
        product_id: c.product_id.clone(),
        sku_id: c.sku_id.clone(),
        availability_id: c.availability_id.clone(),
        country: c.country.clone(),
        segment: c.segment.map_or(pb::Segment::Unspecified, segment).into(),
        product_type: product_type(c.product_type).into(),
        changes: c
            .fields
            .iter()
            .map(|f| pb::FieldChange {
                field: f.field.clone(),
                before: f.before.clone(),
                after: f.after.clone(),
            })
            .collect(),
    }
}
