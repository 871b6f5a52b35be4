//! The quantity rules (DOMAIN.md section 3, rules 3 and 6), shared by a purchase (`check`)
//! and a change of a subscription's quantity (`quantity_change_problems`), which is checked
//! as at purchase: the new quantity within the SKU's range, the seats added within the seat
//! limit and the base's seats, and a base's seats not below the add-ons hanging on it.

use super::{Holdings, Problem, code};
use crate::domain::catalog::Sku;

/// Every failed rule for changing a subscription of `sku` from `from` to `to` seats, on what
/// the customer holds (that subscription included); `addons_on_it`: the quantities of the
/// add-ons hanging on it whose SKU is limited by their base's seats.
pub fn quantity_change_problems(
    holdings: &Holdings,
    sku: &Sku,
    from: i32,
    to: i32,
    addons_on_it: &[i32],
) -> Vec<Problem> {
    let added = i64::from(to) - i64::from(from);
    let mut problems = quantity_range_problems(sku, to);
    if added > 0 {
        problems.extend(addon_seats_problem(holdings, sku, added));
        problems.extend(seat_limit_problem(holdings, sku, added));
    }
    if let Some(&most) = addons_on_it.iter().max()
        && most > to
    {
        problems.push(
            Problem::new(
                code::ADDON_QUANTITY_EXCEEDS_BASE,
                "quantity",
                format!(
                    "an add-on on this subscription has {most} seats; lower it first, or keep at least {most}"
                ),
            )
            .figure("addon_seats", most),
        );
    }
    problems
}

/// Rule 3's quantity part: `added` seats of add-on `sku` within its base's seats (when the
/// SKU says so), counted over what the customer holds.
pub fn addon_seats_problem(holdings: &Holdings, sku: &Sku, added: i64) -> Option<Problem> {
    if !sku.addon_limited_by_base() {
        return None;
    }
    let base_seats: i64 = sku
        .prerequisites
        .iter()
        .map(|(p, s)| holdings.active(p, s))
        .sum();
    let addon_seats = holdings.active(&sku.product_id, &sku.id);
    (base_seats > 0 && addon_seats + added > base_seats).then(|| {
        Problem::new(
            code::ADDON_QUANTITY_EXCEEDS_BASE,
            "quantity",
            format!(
                "{} add-on seats would exceed the {base_seats} seats of the base; at most {} more can be added",
                addon_seats + added,
                (base_seats - addon_seats).max(0)
            ),
        )
        .figure("base_seats", base_seats)
        .figure("addon_seats_owned", addon_seats)
        .figure("seats_available", (base_seats - addon_seats).max(0))
    })
}

/// Rule 6's range: one subscription's `quantity` within the SKU's minimum and maximum.
pub fn quantity_range_problems(sku: &Sku, quantity: i32) -> Vec<Problem> {
    let mut problems = Vec::new();
    if quantity < sku.min_quantity {
        problems.push(
            Problem::new(
                code::QUANTITY_BELOW_MINIMUM,
                "quantity",
                format!(
                    "at least {} must be bought, {} asked",
                    sku.min_quantity, quantity
                ),
            )
            .figure("min_quantity", sku.min_quantity),
        );
    }
    if quantity > sku.max_quantity {
        problems.push(
            Problem::new(
                code::QUANTITY_ABOVE_MAXIMUM,
                "quantity",
                format!(
                    "at most {} can be bought, {} asked",
                    sku.max_quantity, quantity
                ),
            )
            .figure("max_quantity", sku.max_quantity),
        );
    }
    problems
}

/// Rule 6's seat limit: `added` seats of `sku` within the customer's limit, pooled over the
/// subscriptions it holds.
pub fn seat_limit_problem(holdings: &Holdings, sku: &Sku, added: i64) -> Option<Problem> {
    let limit = sku.seat_limit?;
    let owned = holdings.counted(&sku.product_id, &sku.id);
    let available = (i64::from(limit) - owned).max(0);
    (owned + added > i64::from(limit)).then(|| {
        Problem::new(
            code::SEAT_LIMIT_EXCEEDED,
            "quantity",
            format!(
                "the customer may hold at most {limit} seats of this SKU and holds {owned}; {available} can still be bought"
            ),
        )
        .figure("seat_limit", limit)
        .figure("seats_owned", owned)
        .figure("seats_available", available)
    })
}
