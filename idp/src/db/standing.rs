//! One read of a user's standing per request. A token request asks whether its user still
//! stands at the grant, and again when it loads the user for the claims; an authorization
//! request when it loads the session and again for the release. Each answer is read from the
//! database, never a cache, so that an offboarding takes effect at once on every node
//! ([`broker::model::UserStanding`]). Within [`once_per_request`] the first answer serves the
//! rest of that request: it is read at the request's start either way, and the request is
//! over in milliseconds. A change the directory makes meanwhile (every write is a
//! transaction) forgets what was read.

use std::cell::RefCell;
use std::collections::HashMap;

use broker::model::UserStanding;
use uuid::Uuid;

thread_local! {
    /// The standings read in the current request on this thread; `None` outside one.
    static READ: RefCell<Option<HashMap<Uuid, Option<UserStanding>>>> = const { RefCell::new(None) };
}

/// Run `work` (one request's work, on one thread) reading each user's standing once.
pub fn once_per_request<T>(work: impl FnOnce() -> T) -> T {
    /// Ends the request's memory however `work` ends (a panic too).
    struct Scope {
        outermost: bool,
    }
    impl Drop for Scope {
        fn drop(&mut self) {
            if self.outermost {
                READ.with(|r| *r.borrow_mut() = None);
            }
        }
    }
    let outermost = READ.with(|r| {
        let mut r = r.borrow_mut();
        let outermost = r.is_none();
        if outermost {
            *r = Some(HashMap::new());
        }
        outermost
    });
    let _scope = Scope { outermost };
    work()
}

/// The standing of `user` read earlier in this request, if any.
pub(super) fn remembered(user: Uuid) -> Option<Option<UserStanding>> {
    READ.with(|r| r.borrow().as_ref().and_then(|m| m.get(&user).copied()))
}

/// Remember `user`'s standing for the rest of the request (outside one: nothing).
pub(super) fn remember(user: Uuid, standing: Option<UserStanding>) {
    READ.with(|r| {
        if let Some(m) = r.borrow_mut().as_mut() {
            m.insert(user, standing);
        }
    });
}

/// Forget every standing read in this request: the directory is about to change something.
pub(super) fn forget() {
    READ.with(|r| {
        if let Some(m) = r.borrow_mut().as_mut() {
            m.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;
    use broker::model::UserStatus;

    const ACTIVE: Option<UserStanding> = Some(UserStanding {
        status: UserStatus::Active,
        revoked_at: None,
    });

    #[test]
    fn remembered_only_within_a_request() {
        let u = Uuid::new_v4();
        remember(u, ACTIVE);
        assert_eq!(remembered(u), None, "outside a request nothing is kept");
        once_per_request(|| {
            assert_eq!(remembered(u), None);
            remember(u, ACTIVE);
            assert_eq!(remembered(u), Some(ACTIVE));
            // A nested scope shares the request's memory and does not end it.
            once_per_request(|| assert_eq!(remembered(u), Some(ACTIVE)));
            assert_eq!(remembered(u), Some(ACTIVE));
            forget();
            assert_eq!(remembered(u), None, "a change forgets");
            remember(u, None);
            assert_eq!(
                remembered(u),
                Some(None),
                "a user not found is remembered too"
            );
        });
        assert_eq!(remembered(u), None, "the request's end forgets");
        let _ = std::panic::catch_unwind(|| {
            once_per_request(|| {
                remember(u, ACTIVE);
                panic!("a failing request");
            })
        });
        assert_eq!(remembered(u), None, "a panic ends the request too");
    }
}
