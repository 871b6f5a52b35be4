//! Pure types and rules of the business: no tonic, no SeaORM, no I/O.

/// An enum with a fixed text form: stored in the database and printed as that text.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and printed form.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Reads a stored value; an unknown one is a corrupt database.
            pub fn from_db(text: &str) -> Result<Self, $crate::domain::DomainError> {
                Self::parse(text).ok_or_else(|| $crate::domain::DomainError::Internal(format!(
                    concat!("stored ", stringify!($name), " {:?} is unknown"), text
                )))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod cart;
pub mod catalog;
pub mod changes;
pub mod customer;
pub mod eligibility;
pub mod error;
pub mod ids;
pub mod money;
pub mod order;
pub mod subscription;

pub use error::{DomainError, FieldViolation};
