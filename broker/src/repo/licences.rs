//! Lesmateriaal: publishers' titles, their icons, who holds them, and the levels (niveaus)
//! schools give: [`Licences`].

use claims::{InstellingRef, Jaargroep};
use uuid::Uuid;

use super::RepoResult;
use crate::licences::{Holder, Licence, LicenceChange, NiveauHolder, Title, TitleKey};
use crate::model::AuditEvent;

/// A stored icon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIcon {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Titles, licences and levels.
pub trait Licences {
    /// Every title of a publisher, methodes and products, by methode then product.
    fn titles_of(&self, rp: Uuid) -> RepoResult<Vec<Title>>;
    /// The titles of several publishers at once (the start page).
    fn titles_of_many(&self, rps: &[Uuid]) -> RepoResult<Vec<Title>>;
    /// Create or replace a title (with its icon, stored under the icon's hash, when it has a
    /// new one). `true` when it was created. A product's methode must exist.
    fn put_title(
        &self,
        title: Title,
        icon: Option<protocol::icon::Icon>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<bool>;
    /// Remove a title and every licence for it; a methode takes its products along.
    /// `false` when there was none.
    fn remove_title(&self, key: &TitleKey, audit: AuditEvent) -> RepoResult<bool>;
    /// An icon by its hash.
    fn icon(&self, hash: &str) -> RepoResult<Option<StoredIcon>>;
    /// The licences for one title, of one kind of holder (`None`: all).
    fn licences_of_title(&self, key: &TitleKey, kind: Option<&str>) -> RepoResult<Vec<Licence>>;
    /// Apply `change` in one transaction with `audit`: `(added, removed)` counts.
    fn change_licences(
        &self,
        change: &LicenceChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<(usize, usize)>;
    /// The licences that reach a user: their own, their groups', and their school's.
    fn licences_reaching(
        &self,
        school: &InstellingRef,
        user: Uuid,
        groups: &[Uuid],
    ) -> RepoResult<Vec<Licence>>;
    /// The licence endpoints (live lookup) of those of `rps` that have one.
    fn licence_endpoints(&self, rps: &[Uuid]) -> RepoResult<Vec<(Uuid, String)>>;
    /// Set (or with `None` remove) a publisher's licence endpoint, with `audit`.
    fn set_licence_endpoint(
        &self,
        rp: Uuid,
        url: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// The levels given at a school (to groups and pupils).
    fn niveaus_of_school(
        &self,
        school: &InstellingRef,
    ) -> RepoResult<Vec<(NiveauHolder, Jaargroep)>>;
    /// Replace one holder's levels with `levels`, with `audit`.
    fn set_niveaus(
        &self,
        school: &InstellingRef,
        holder: &NiveauHolder,
        levels: &[Jaargroep],
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// The levels reaching a user: their own and their groups'.
    fn niveaus_reaching(&self, user: Uuid, groups: &[Uuid]) -> RepoResult<Vec<Jaargroep>>;
}

/// What a [`Holder`] is called in storage.
pub fn holder_kind(h: &Holder) -> &'static str {
    match h {
        Holder::User(_) => "user",
        Holder::Group(_) => "group",
        Holder::School => "school",
    }
}
