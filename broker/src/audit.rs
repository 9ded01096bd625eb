//! The audit trail's vocabulary: every action Leerpoort records, and the one way to write a
//! line of it ([`AuditEvent::record`]). The stored names (`as_str`) are the trail's format:
//! they never change meaning.

use claims::InstellingRef;
use uuid::Uuid;

use crate::model::AuditEvent;

/// What an audit line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    BoardAdd,
    SchoolAdd,
    SchoolChangeBrin,
    SchoolRequireTotp,
    SchoolClose,
    SchoolCloseRequested,
    SchoolNetworks,
    GroupAdd,
    NoticeSet,
    ClientAdd,
    /// A client's access token format changed (`details.format`: `jwt` or `opaque`).
    ClientAccessTokens,
    /// A party's webhook set (`details.url`) or removed (`url: null`).
    WebhookSet,
    /// A new school year began (`details.schooljaar`; `vorig`: the one before, `null` the
    /// first time the year is noted).
    SchoolYearBegan,
    SamlSpAdd,
    SamlSpUpdate,
    SamlSpRemove,
    RegistrationRegister,
    RegistrationDeregister,
    UpstreamAdd,
    UpstreamRemove,
    UpstreamUnmatched,
    UpstreamRoleRefused,
    UserAdd,
    UserDisable,
    UserEnable,
    UserRemove,
    UserProvisioned,
    UserUnlock,
    UserTotpEnrolled,
    UserTotpReset,
    UserPasswordSet,
    UserActivationSent,
    UserResetSent,
    UserRolesSet,
    PupilSecretShown,
    PupilSecretSet,
    PupilPictureSet,
    GroupSignInMethod,
    ThuisAddressAdded,
    ThuisAddressRemoved,
    ThuisCodeMade,
    ThuisUnblocked,
    ThuisActivated,
    ThuisPasswordSet,
    ThuisActivationSent,
    ThuisResetSent,
    SubstituteActivate,
    SubstituteEnd,
    SubstituteExpired,
    DeviceEnrol,
    DeviceRevoke,
    /// Dynamic IP: an update token made (or replaced), Dynamic IP turned off, a new address.
    DynamicIpToken,
    DynamicIpOff,
    DynamicIpAddress,
    /// An import (EDEXML, ...) applied; its details are the report.
    ImportApplied,
    /// A file for the next school year staged for 1 August; its details are the report.
    ImportStaged,
    /// A staged file withdrawn before it took effect.
    ImportUnstaged,
    /// An LAS registered by the operator (its client and, for pull, its UWLR endpoint).
    LasAdd,
    /// The school's side of an automatic coupling: the coordinator chose this LAS, or
    /// "Handmatig importeren" (`las: null`).
    LasChosen,
    /// The LAS's side: it turned Leerpoort on as koppelpartner for the school (push), or the
    /// school's autorisatiesleutel for it was put on file (pull).
    LasGranted,
    /// The LAS's side withdrawn.
    LasWithdrawn,
    /// A pull from the LAS failed; its details say why (never the key).
    LasSyncFailed,
    /// A publisher added or changed a title (licence API).
    TitlePut,
    /// A publisher removed a title and its licences.
    TitleRemove,
    /// A publisher granted or revoked licences.
    LicencesChange,
    /// A coordinator or teacher gave a group or pupil levels (niveaus).
    NiveausSet,
    /// DUO's registry of school locations loaded; its details are the report.
    DuoLoaded,
    /// A school took DUO's name (`from`, `to`) when the registry was loaded.
    SchoolRenamed,
    /// A school merged into this one (fusie); its details are the report.
    SchoolMerge,
    /// Groups split off into a new school (splitsen); its details are the report.
    SchoolSplit,
    /// Two records of one person joined in a merger: the ids of both, never more.
    UserJoined,
    /// The consents a merged school gave, taken over by the school it merged into.
    SchoolMergerConsents,
    /// The operator made a sign-in link for the operator console (`operator link`).
    OperatorLink,
    /// The operator console was signed in to with a link (which is then used up).
    OperatorSignIn,
    /// Sign-ins refused by the release policy, one variant per reason (see
    /// `release::note_refusal`).
    RefusedNotRegistered,
    RefusedDeregistered,
    RefusedDisabled,
    RefusedWrongAudience,
    RefusedNotAtHome,
    RefusedSchoolClosed,
    RefusedUserDisabled,
}

impl AuditAction {
    /// The name stored in the trail, e.g. `school.add`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BoardAdd => "board.add",
            Self::SchoolAdd => "school.add",
            Self::SchoolChangeBrin => "school.change-brin",
            Self::SchoolRequireTotp => "school.require-totp",
            Self::SchoolClose => "school.close",
            Self::SchoolCloseRequested => "school.close-requested",
            Self::SchoolNetworks => "school.networks",
            Self::GroupAdd => "group.add",
            Self::NoticeSet => "notice.set",
            Self::ClientAdd => "client.add",
            Self::WebhookSet => "client.webhook",
            Self::ClientAccessTokens => "client.access-tokens",
            Self::SchoolYearBegan => "school-year.began",
            Self::SamlSpAdd => "saml_sp.add",
            Self::SamlSpUpdate => "saml_sp.update",
            Self::SamlSpRemove => "saml_sp.remove",
            Self::RegistrationRegister => "registration.register",
            Self::RegistrationDeregister => "registration.deregister",
            Self::UpstreamAdd => "upstream.add",
            Self::UpstreamRemove => "upstream.remove",
            Self::UpstreamUnmatched => "upstream.unmatched",
            Self::UpstreamRoleRefused => "upstream.role_refused",
            Self::UserAdd => "user.add",
            Self::UserDisable => "user.disable",
            Self::UserEnable => "user.enable",
            Self::UserRemove => "user.remove",
            Self::UserProvisioned => "user.provisioned",
            Self::UserUnlock => "user.unlock",
            Self::UserTotpEnrolled => "user.totp-enrolled",
            Self::UserTotpReset => "user.totp-reset",
            Self::UserPasswordSet => "user.password-set",
            Self::UserActivationSent => "user.activation-sent",
            Self::UserResetSent => "user.reset-sent",
            Self::UserRolesSet => "user.roles-set",
            Self::PupilSecretShown => "pupil.secret-shown",
            Self::PupilSecretSet => "pupil.secret-set",
            Self::PupilPictureSet => "pupil.picture-set",
            Self::GroupSignInMethod => "group.sign-in-method",
            Self::ThuisAddressAdded => "thuis.address-added",
            Self::ThuisAddressRemoved => "thuis.address-removed",
            Self::ThuisCodeMade => "thuis.code-made",
            Self::ThuisUnblocked => "thuis.unblocked",
            Self::ThuisActivated => "thuis.activated",
            Self::ThuisPasswordSet => "thuis.password-set",
            Self::ThuisActivationSent => "thuis.activation-sent",
            Self::ThuisResetSent => "thuis.reset-sent",
            Self::SubstituteActivate => "substitute.activate",
            Self::SubstituteEnd => "substitute.end",
            Self::SubstituteExpired => "substitute.expired",
            Self::DeviceEnrol => "device.enrol",
            Self::DeviceRevoke => "device.revoke",
            Self::ImportApplied => "import.applied",
            Self::ImportStaged => "import.staged",
            Self::ImportUnstaged => "import.unstaged",
            Self::LasAdd => "las.add",
            Self::LasChosen => "las.chosen",
            Self::LasGranted => "las.granted",
            Self::LasWithdrawn => "las.withdrawn",
            Self::LasSyncFailed => "las.sync-failed",
            Self::TitlePut => "licence.title-put",
            Self::TitleRemove => "licence.title-remove",
            Self::LicencesChange => "licence.change",
            Self::NiveausSet => "niveau.set",
            Self::DuoLoaded => "duo.loaded",
            Self::SchoolRenamed => "school.renamed",
            Self::SchoolMerge => "school.merge",
            Self::SchoolSplit => "school.split",
            Self::UserJoined => "user.joined",
            Self::SchoolMergerConsents => "school.merger-consents",
            Self::OperatorLink => "operator.link",
            Self::OperatorSignIn => "operator.sign-in",
            Self::DynamicIpToken => "school.dynamic-ip-token",
            Self::DynamicIpOff => "school.dynamic-ip-off",
            Self::DynamicIpAddress => "school.dynamic-ip-address",
            Self::RefusedNotRegistered => "sign-in.refused.not-registered",
            Self::RefusedDeregistered => "sign-in.refused.deregistered",
            Self::RefusedDisabled => "sign-in.refused.disabled",
            Self::RefusedWrongAudience => "sign-in.refused.wrong-audience",
            Self::RefusedNotAtHome => "sign-in.refused.not-at-home",
            Self::RefusedSchoolClosed => "sign-in.refused.school-closed",
            Self::RefusedUserDisabled => "sign-in.refused.user-disabled",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AuditEvent {
    /// A new line of the trail: `actor` (`cli`, `demo`, `system`, `user:<uuid>`, ...) did
    /// `action` at `at`, at `school`, to `subject`, with `details` (never a secret or a plain
    /// ECK-iD).
    pub fn record(
        action: AuditAction,
        actor: impl Into<String>,
        at: i64,
        school: Option<InstellingRef>,
        subject: Option<String>,
        details: serde_json::Value,
    ) -> Self {
        Self {
            seq: 0,
            id: Uuid::new_v4(),
            at,
            actor: actor.into(),
            action: action.as_str().to_string(),
            school,
            subject,
            details,
        }
    }
}
