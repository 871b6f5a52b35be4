//! Identifiers and codes that can only be built valid.

use std::fmt;

use super::DomainError;
use super::error::echo;

/// Longest free-text field the API accepts anywhere (names, e-mails, search text).
pub const MAX_TEXT_LEN: usize = 256;

fn catalog_code(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        ));
    }
    if value.len() > max || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!("{field} must be 1 to {max} letters or digits"),
        ));
    }
    Ok(value.to_ascii_uppercase())
}

/// `$text` holds the id: `Arc<str>` for ids a snapshot repeats (a product's id in each of its
/// SKUs and availabilities: a clone shares the text), `Box<str>` for ids each held once.
macro_rules! catalog_id {
    ($(#[$doc:meta])* $name:ident, $max:expr, $text:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($text);

        impl $name {
            /// Parses an id sent by a caller or read from a file; `field` names it in errors.
            pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
                catalog_code(field, value, $max).map(|id| Self(id.into()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

catalog_id!(
    /// A product id, e.g. `CFQ7TTC0LH18` (12 characters in the real catalog).
    ProductId,
    32,
    std::sync::Arc<str>
);
catalog_id!(
    /// A SKU id, unique only within its product, e.g. `0001`.
    SkuId,
    16,
    std::sync::Arc<str>
);
catalog_id!(
    /// An availability id, e.g. `CFQ7TTC0K971`.
    AvailabilityId,
    32,
    Box<str>
);

impl AvailabilityId {
    /// The stable id of a SKU's availability in one country and segment: the same in every
    /// month's import, so carts and change events keep pointing at it.
    pub fn derive(product: &ProductId, sku: &SkuId, country: &CountryCode, segment: &str) -> Self {
        const ALPHABET: &[u8; 30] = b"0123456789BCDFGHJKLMNPQRSTVWXZ";
        let key = format!("{product}/{sku}/{country}/{segment}");
        let mut hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
        let mut id = String::with_capacity(12);
        for _ in 0..12 {
            id.push(char::from(ALPHABET[(hash % 30) as usize]));
            hash /= 30;
        }
        Self(id.into())
    }
}

/// What a cart line buys: `productId:skuId:availabilityId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CatalogItemId {
    pub product: ProductId,
    pub sku: SkuId,
    pub availability: AvailabilityId,
}

impl CatalogItemId {
    /// The longest id: product (32), SKU (16) and availability (32) with two colons.
    pub const MAX_LEN: usize = 82;

    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        // Measured before it is split: a long value never becomes a long list of parts.
        if value.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                field,
                "TOO_LONG",
                format!(
                    "{field} must be productId:skuId:availabilityId, at most {} characters",
                    Self::MAX_LEN
                ),
            ));
        }
        let parts: Vec<&str> = value.split(':').collect();
        let [product, sku, availability] = parts.as_slice() else {
            return Err(DomainError::invalid(
                field,
                if value.is_empty() {
                    "REQUIRED"
                } else {
                    "MALFORMED"
                },
                format!("{field} must be productId:skuId:availabilityId"),
            ));
        };
        Ok(Self {
            product: ProductId::parse(field, product)?,
            sku: SkuId::parse(field, sku)?,
            availability: AvailabilityId::parse(field, availability)?,
        })
    }
}

impl fmt::Display for CatalogItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.product, self.sku, self.availability)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $resource:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
                if value.is_empty() {
                    return Err(DomainError::invalid(field, "REQUIRED", format!("{field} is required")));
                }
                uuid::Uuid::parse_str(value).map(Self).map_err(|_| {
                    DomainError::invalid(field, "MALFORMED", format!("{field} must be a UUID"))
                })
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            pub const RESOURCE: &'static str = $resource;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A reseller tenant.
    PartnerId,
    "partner"
);
uuid_id!(CustomerId, "customer");
uuid_id!(SubscriptionId, "subscription");
uuid_id!(CartId, "cart");
uuid_id!(OrderId, "order");

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        if value.is_empty() {
            return Err(DomainError::invalid(
                field,
                "REQUIRED",
                format!("{field} is required"),
            ));
        }
        let unknown = || {
            DomainError::invalid(
                field,
                "UNKNOWN_COUNTRY",
                format!(
                    "{field} {} is not an ISO 3166-1 alpha-2 country code",
                    echo(value)
                ),
            )
        };
        // Two bytes or nothing: a long value is refused before it is copied or looked up.
        let &[a, b] = value.as_bytes() else {
            return Err(unknown());
        };
        let upper = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        match std::str::from_utf8(&upper).map(celes::Country::from_alpha2) {
            Ok(Ok(_)) => Ok(Self(upper)),
            _ => Err(unknown()),
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A caller-chosen idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        if value.is_empty() {
            return Err(DomainError::invalid(
                field,
                "REQUIRED",
                format!("{field} is required on every write"),
            ));
        }
        if value.len() > 128 || !value.chars().all(|c| c.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                field,
                "MALFORMED",
                format!("{field} must be 1 to 128 printable ASCII characters"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trimmed, non-empty text of bounded length (names, titles).
pub fn parse_text(field: &str, value: &str, required: bool) -> Result<String, DomainError> {
    let too_long = || {
        DomainError::invalid(
            field,
            "TOO_LONG",
            format!("{field} may be at most {MAX_TEXT_LEN} characters"),
        )
    };
    // A character is at most 4 bytes: longer input is refused before it is scanned (and
    // leading or trailing blanks get that much room too).
    if value.len() > 8 * MAX_TEXT_LEN {
        return Err(too_long());
    }
    let trimmed = value.trim();
    if trimmed.is_empty() && required {
        return Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        ));
    }
    if trimmed.chars().count() > MAX_TEXT_LEN {
        return Err(too_long());
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!("{field} may not contain control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A plausible e-mail address: one `@`, a local part, and a dotted domain.
pub fn parse_email(field: &str, value: &str) -> Result<String, DomainError> {
    let email = parse_text(field, value, true)?;
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!("{field} is not an e-mail address"),
        ))
    }
}

/// A DNS domain such as `fabrikam.onmicrosoft.com`; may be empty when `required` is false.
pub fn parse_domain(field: &str, value: &str, required: bool) -> Result<String, DomainError> {
    let domain = parse_text(field, value, required)?.to_ascii_lowercase();
    if domain.is_empty() {
        return Ok(domain);
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if labels_ok && domain.contains('.') {
        Ok(domain)
    } else {
        Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!("{field} is not a domain name"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_item_ids_round_trip_and_reject_garbage() {
        let id = CatalogItemId::parse("id", "CFQ7TTC0LH18:0001:CFQ7TTC0K971").unwrap();
        assert_eq!(id.to_string(), "CFQ7TTC0LH18:0001:CFQ7TTC0K971");
        for bad in ["", "a:b", "a:b:c:d", "CFQ7:00 1:X", "A::B"] {
            assert!(CatalogItemId::parse("id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries_must_be_real() {
        assert_eq!(CountryCode::parse("c", "sk").unwrap().as_str(), "SK");
        assert!(CountryCode::parse("c", "XX").is_err());
        assert!(CountryCode::parse("c", "USA").is_err());
    }

    #[test]
    fn availability_ids_are_stable_and_distinct() {
        let p = ProductId::parse("p", "CFQ7TTC0LH18").unwrap();
        let s = SkuId::parse("s", "0001").unwrap();
        let us = CountryCode::parse("c", "US").unwrap();
        let de = CountryCode::parse("c", "DE").unwrap();
        let a = AvailabilityId::derive(&p, &s, &us, "commercial");
        assert_eq!(a, AvailabilityId::derive(&p, &s, &us, "commercial"));
        assert_ne!(a, AvailabilityId::derive(&p, &s, &de, "commercial"));
        assert_eq!(a.as_str().len(), 12);
    }

    #[test]
    fn emails_and_domains() {
        assert!(parse_email("e", "ana@fabrikam.com").is_ok());
        for bad in ["", "ana", "ana@", "@x.com", "a@b", "a b@c.com"] {
            assert!(parse_email("e", bad).is_err(), "{bad}");
        }
        assert!(parse_domain("d", "fabrikam.onmicrosoft.com", true).is_ok());
        assert!(parse_domain("d", "-x.com", true).is_err());
    }
}
