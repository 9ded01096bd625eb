//! The storage the broker needs, as a trait. The `idp` crate implements it with diesel over
//! SQLite and PostgreSQL; both pass the same repository test suite.
//!
//! Every mutating call takes the [`AuditEvent`] that describes it and writes it in the same
//! transaction: a change without its audit line cannot happen.

use claims::{Audience, Brin6, EckId, InstellingRef, Jaargroep, Release, Role};
use ipnet::IpNet;
use uuid::Uuid;

use crate::model::{
    AuditEvent, EnrolledDevice, Group, MatchRule, PupilAuth, Registration, RelyingParty, RpKind,
    RpProtocol, SamlSpOptions, School, SchoolBoard, ThuisAccount, Upstream, UpstreamProtocol, User,
    UserStanding, UserStatus,
};

/// Errors of the directory. Messages name the field at fault, in words an operator reads.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RepoError {
    /// The thing referred to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A uniqueness rule would be broken (duplicate e-mail, BRIN6 in use, ...).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Backend(String),
}

pub type RepoResult<T> = Result<T, RepoError>;

/// A new school board.
#[derive(Debug, Clone)]
pub struct NewBoard {
    pub id: Uuid,
    pub name: String,
    pub bestuursnummer: Option<String>,
}

/// A new school location.
#[derive(Debug, Clone)]
pub struct NewSchool {
    pub instelling_ref: InstellingRef,
    pub board_id: Option<Uuid>,
    pub brin6: Brin6,
    pub name: String,
    pub networks: Vec<IpNet>,
}

/// A new group.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub school: InstellingRef,
    pub key: String,
    pub name: String,
    pub jaargroep: Option<Jaargroep>,
    pub composite: bool,
    pub school_year: String,
}

/// A new user, with roles and group memberships.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub school: InstellingRef,
    pub roles: Vec<Role>,
    pub las_key: Option<String>,
    pub eck_id: Option<EckId>,
    pub given_name: String,
    pub family_name: String,
    /// Lower-cased by the caller.
    pub email: Option<String>,
    pub status: UserStatus,
    pub picture: Option<String>,
    pub pupil_auth: Option<PupilAuth>,
    pub pin_hash: Option<String>,
    pub picture_password_hash: Option<String>,
    pub password_hash: Option<String>,
    pub source: String,
    pub group_ids: Vec<Uuid>,
    /// A pupil's PIN or picture password, sealed so that their teacher can show it.
    pub secret_sealed: Option<String>,
}

/// A new upstream identity provider (a network environment).
#[derive(Debug, Clone)]
pub struct NewUpstream {
    pub id: Uuid,
    pub name: String,
    pub protocol: UpstreamProtocol,
    pub match_rule: MatchRule,
    pub match_claim: String,
    pub provision: bool,
    /// The roles it may create users with (`leerling`, `leerkracht`).
    pub provision_roles: Vec<Role>,
    pub schools: Vec<InstellingRef>,
}

/// A new relying party (OIDC client or SAML SP).
#[derive(Debug, Clone)]
pub struct NewRelyingParty {
    pub id: Uuid,
    pub name: String,
    pub kind: RpKind,
    pub protocol: RpProtocol,
    pub sector: String,
    pub home_allowed: bool,
    pub audience: Audience,
    /// Long-lived refresh tokens (`offline_access`) allowed.
    pub offline_access: bool,
}

/// A school's registration of a relying party, as it should be after the call.
#[derive(Debug, Clone)]
pub struct RegistrationChange {
    pub school: InstellingRef,
    pub rp_id: Uuid,
    pub allowed: bool,
    pub release: Release,
    pub home_allowed: bool,
}

/// Devices linked to a school (see [`EnrolledDevice`]).
pub trait EnrolledDevices {
    /// Store a newly linked device, unless the school already has `max` of them
    /// ([`RepoError::Conflict`]).
    fn insert_device(
        &self,
        device: EnrolledDevice,
        max: usize,
        audit: AuditEvent,
    ) -> RepoResult<EnrolledDevice>;
    /// The school's devices, most recently linked first.
    fn devices_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<EnrolledDevice>>;
    fn device(&self, id: Uuid) -> RepoResult<Option<EnrolledDevice>>;
    /// Is device `id` still linked to `school`? Records its use at `now` when the stored last
    /// use is older than `resolution` seconds (so at most one write per device per that time).
    fn device_in_use(
        &self,
        id: Uuid,
        school: &InstellingRef,
        now: i64,
        resolution: i64,
    ) -> RepoResult<bool>;
    /// Unlink a device of `school`; `Ok(None)` when `school` has no such device.
    fn revoke_device(
        &self,
        school: &InstellingRef,
        id: Uuid,
        audit: AuditEvent,
    ) -> RepoResult<Option<EnrolledDevice>>;
}

/// What the broker reads and writes.
pub trait Directory: EnrolledDevices + Send + Sync + std::fmt::Debug {
    /// Is the database reachable? (`/readyz`.)
    fn ping(&self) -> RepoResult<()>;

    fn insert_board(&self, board: NewBoard, now: i64, audit: AuditEvent)
        -> RepoResult<SchoolBoard>;
    fn board(&self, id: Uuid) -> RepoResult<Option<SchoolBoard>>;

    /// Fails with `Conflict` when an active school already has this BRIN6.
    fn insert_school(&self, school: NewSchool, now: i64, audit: AuditEvent) -> RepoResult<School>;
    fn school(&self, r: &InstellingRef) -> RepoResult<Option<School>>;
    fn schools(&self) -> RepoResult<Vec<School>>;
    /// DUO gave the school a new BRIN6. Identifiers given to relying parties do not change.
    fn change_brin6(
        &self,
        r: &InstellingRef,
        brin6: Brin6,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<School>;

    fn insert_group(&self, group: NewGroup, now: i64, audit: AuditEvent) -> RepoResult<Group>;
    fn group(&self, id: Uuid) -> RepoResult<Option<Group>>;
    fn group_by_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<Group>>;
    fn groups_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Group>>;

    /// Inserts the user with roles and memberships in one transaction. `Conflict` names the
    /// field (e-mail, ECK-iD, LAS key) that is already taken.
    fn insert_user(&self, user: NewUser, now: i64, audit: AuditEvent) -> RepoResult<User>;
    fn user(&self, id: Uuid) -> RepoResult<Option<User>>;
    /// By staff e-mail (compared lower-cased).
    fn user_by_email(&self, email: &str) -> RepoResult<Option<User>>;
    fn users_of_group(&self, group: Uuid) -> RepoResult<Vec<User>>;
    fn users_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<User>>;
    /// A user's status and revocation moment, read from the database itself (never a cache):
    /// checked at every use of a session, code or refresh token.
    fn user_standing(&self, id: Uuid) -> RepoResult<Option<UserStanding>>;
    /// Disable a user (`user disable`: everything issued to them up to `now` becomes void) or
    /// enable them again (`user enable`: the status before, active or inactive, returns).
    /// `NotFound` for an unknown or removed user.
    fn set_disabled(
        &self,
        user: Uuid,
        disabled: bool,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<User>;
    /// Remove a user: names, e-mail, ECK-iD, LAS key, PIN, password, picture, group
    /// memberships, home accounts (that serve nobody else), the home login code and the sealed
    /// PIN are deleted; the id stays as a tombstone with status `removed`, so its pseudonyms
    /// are never given to anyone else.
    fn remove_user(&self, user: Uuid, now: i64, audit: AuditEvent) -> RepoResult<User>;
    /// Add an upstream identity provider serving `schools`.
    fn insert_upstream(&self, u: NewUpstream, now: i64, audit: AuditEvent) -> RepoResult<Upstream>;
    fn upstream(&self, id: Uuid) -> RepoResult<Option<Upstream>>;
    fn upstream_by_name(&self, name: &str) -> RepoResult<Option<Upstream>>;
    fn upstreams(&self) -> RepoResult<Vec<Upstream>>;
    fn remove_upstream(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()>;
    /// A user of `school` by their key in the pupil administration.
    fn user_by_las_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<User>>;
    /// A user by ECK-iD.
    fn user_by_eck_id(&self, eck_id: &EckId) -> RepoResult<Option<User>>;

    /// A pupil's home login code: stored as `code_hash` for look-up and `sealed` for printing
    /// again; a new one replaces the old.
    fn put_thuis_code(
        &self,
        user: Uuid,
        code_hash: &str,
        sealed: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// The pupil whose home login code has this hash.
    fn thuis_code_user(&self, code_hash: &str) -> RepoResult<Option<Uuid>>;
    /// A pupil's sealed home login code.
    fn thuis_code_sealed(&self, user: Uuid) -> RepoResult<Option<String>>;

    /// A pupil's sealed PIN or picture password, if one was kept.
    fn pupil_secret(&self, user: Uuid) -> RepoResult<Option<String>>;

    /// A staff member's sealed TOTP secret and the last time step accepted, if enrolled.
    fn staff_totp(&self, user: Uuid) -> RepoResult<Option<(String, i64)>>;
    /// Enrol (or re-enrol) `user`'s second factor; `step` is the time step of the code that
    /// confirmed it, which counts as used.
    fn put_staff_totp(
        &self,
        user: Uuid,
        sealed: &str,
        step: i64,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// Accept time step `step` of `user`'s second factor once: `true` only if it is later than
    /// every step accepted before (atomic, so a code works once even across nodes).
    fn use_totp_step(&self, user: Uuid, step: i64) -> RepoResult<bool>;
    /// Remove `user`'s second factor; `false` if there was none.
    fn remove_staff_totp(&self, user: Uuid, audit: AuditEvent) -> RepoResult<bool>;

    /// The home accounts of a pupil (at most two).
    fn thuis_accounts_of_user(&self, user: Uuid) -> RepoResult<Vec<ThuisAccount>>;
    /// A home account by its (lower-case) e-mail address.
    fn thuis_account_by_email(&self, email: &str) -> RepoResult<Option<ThuisAccount>>;
    fn thuis_account(&self, id: Uuid) -> RepoResult<Option<ThuisAccount>>;
    /// Link `email` (lower-case) to pupil `user`, creating the account when the address is
    /// new. Refused when the pupil has [`crate::model::MAX_HOME_ADDRESSES`] already.
    fn link_thuis_account(
        &self,
        user: Uuid,
        email: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount>;
    /// Unlink a home account from a pupil; an account that serves nobody any more is removed.
    fn unlink_thuis_account(
        &self,
        user: Uuid,
        account: Uuid,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// Store an activation or reset link (`token_hash`, tied to `email`) for an account.
    fn put_thuis_token(
        &self,
        token_hash: &str,
        account: Uuid,
        email: &str,
        expires_at: i64,
        now: i64,
    ) -> RepoResult<()>;
    /// A link's account and address, if it exists and has not expired (without using it).
    fn thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>>;
    /// Take a link: the account and address it was sent to, if it exists and has not expired.
    /// Single use: it is gone afterwards, whatever the answer.
    fn take_thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>>;
    /// Set a home account's password; the first time also activates it.
    fn set_thuis_password(
        &self,
        account: Uuid,
        hash: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount>;

    fn set_password_hash(
        &self,
        user: Uuid,
        hash: &str,
        activate: bool,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;

    fn insert_relying_party(
        &self,
        rp: NewRelyingParty,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<RelyingParty>;
    fn relying_party(&self, id: Uuid) -> RepoResult<Option<RelyingParty>>;
    /// By OIDC client id or SAML entity id.
    fn relying_party_by_public_id(&self, public_id: &str) -> RepoResult<Option<RelyingParty>>;
    fn relying_parties(&self) -> RepoResult<Vec<RelyingParty>>;
    /// Removes a relying party and every school's registration of it, in one transaction.
    fn remove_relying_party(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()>;
    /// A SAML SP's options (the defaults when none were set).
    fn saml_sp_options(&self, rp: Uuid) -> RepoResult<SamlSpOptions>;
    /// Replace a SAML SP's metadata (when `metadata` is given) and its options, in one
    /// transaction with `audit`; every school's registration stays.
    fn update_saml_sp(
        &self,
        rp: Uuid,
        metadata: Option<String>,
        options: SamlSpOptions,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()>;

    /// Creates or updates the registration; `since` moves only when `allowed` changes.
    fn put_registration(
        &self,
        change: RegistrationChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<Registration>;
    fn registration(&self, school: &InstellingRef, rp: Uuid) -> RepoResult<Option<Registration>>;
    fn registrations_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Registration>>;
    /// Every school's registration of a relying party.
    fn registrations_of_relying_party(&self, rp: Uuid) -> RepoResult<Vec<Registration>>;

    /// An operator setting (e.g. `notice`).
    fn setting(&self, key: &str) -> RepoResult<Option<String>>;
    /// Set (`Some`) or clear (`None`) an operator setting.
    fn put_setting(
        &self,
        key: &str,
        value: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;

    fn append_audit(&self, event: AuditEvent) -> RepoResult<()>;
    /// Newest first.
    fn audit_events(
        &self,
        school: Option<&InstellingRef>,
        limit: i64,
    ) -> RepoResult<Vec<AuditEvent>>;
}
