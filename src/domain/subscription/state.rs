//! Suspension and auto-renew (DOMAIN.md section 6): a partner suspends an active
//! subscription with a term (a perpetual licence has nothing to suspend; billing goes on to
//! the term's end, and a suspended subscription expires there, so suspending turns auto-renew
//! off) and reactivates a suspended one; auto-renew is on or off for an active subscription
//! with a term that is not a trial (trials end unless converted).

use super::{Subscription, SubscriptionStatus};
use crate::domain::DomainError;
use crate::domain::catalog::Term;
use crate::domain::error::Precondition;
use crate::domain::order::order_code;

impl Subscription {
    pub(super) fn refused(&self, code: &str, message: String) -> DomainError {
        DomainError::FailedPrecondition {
            violations: vec![Precondition {
                code: code.into(),
                subject: format!("subscriptions/{}", self.id),
                description: message.clone(),
            }],
            message,
        }
    }

    /// It suspended, if it may be, by a request that read it at `etag`.
    pub fn suspended(&self, etag: Option<&str>) -> Result<Subscription, DomainError> {
        self.check_changeable(etag, self.status == SubscriptionStatus::Active)?;
        if self.term == Term::None {
            return Err(self.refused(
                order_code::SUSPENSION_NOT_ALLOWED,
                "a perpetual licence cannot be suspended; it can be cancelled inside its window"
                    .into(),
            ));
        }
        Ok(Subscription {
            status: SubscriptionStatus::Suspended,
            auto_renew: false,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// It active again, if it is suspended, by a request that read it at `etag` (auto-renew
    /// stays off until turned on).
    pub fn reactivated(&self, etag: Option<&str>) -> Result<Subscription, DomainError> {
        if self.status == SubscriptionStatus::Active {
            return Err(self.refused(
                order_code::SUBSCRIPTION_NOT_SUSPENDED,
                "the subscription is active; only a suspended one is reactivated".into(),
            ));
        }
        self.check_changeable(etag, self.status == SubscriptionStatus::Suspended)?;
        Ok(Subscription {
            status: SubscriptionStatus::Active,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// It with auto-renew `on`, if it may renew, by a request that read it at `etag`.
    pub fn with_auto_renew(
        &self,
        etag: Option<&str>,
        on: bool,
    ) -> Result<Subscription, DomainError> {
        self.check_changeable(etag, self.status == SubscriptionStatus::Active)?;
        if on && (self.term == Term::None || self.is_trial) {
            return Err(self.refused(
                order_code::AUTO_RENEW_NOT_ALLOWED,
                if self.is_trial {
                    "a trial does not renew: it ends unless converted".into()
                } else {
                    "a perpetual licence has no term to renew".into()
                },
            ));
        }
        Ok(Subscription {
            auto_renew: on,
            version: self.version + 1,
            ..self.clone()
        })
    }
}
