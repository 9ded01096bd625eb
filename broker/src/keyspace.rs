//! The ephemeral store's keyspace: every key that the `EphemeralStore`
//! holds is one [`Key`], and its text is written here and nowhere else. Two parts of the code
//! that mean the same thing use the same variant; two that mean different things cannot collide.
//! The texts are what is stored (in Redis too), so they stay as they are: changing one strands
//! what is in the store at an upgrade.

use std::fmt;

use uuid::Uuid;

/// One key in the ephemeral store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// An SSO session, by its id.
    Session(&'a str),
    /// A session that was ended (logout, offboarding, takeover), by its public `sid` (the
    /// one-way hash relying parties see): the grants issued in it end with it.
    SessionEnded(&'a str),
    /// An authorization code, until it is redeemed.
    Code(&'a str),
    /// A redeemed authorization code, pointing at its grant (a second use revokes it).
    CodeUsed(&'a str),
    /// A grant (the tokens one authorization issued), by id.
    Grant(&'a str),
    /// An opaque access token, by the SHA-256 (hex) of the token: its claims.
    AccessToken(&'a str),
    /// A refresh token that has been used (by its hash): reuse revokes the family.
    RefreshUsed(&'a str),
    /// A client assertion's `jti`, per issuing client, while it could be replayed.
    ClientAssertionJti { client: &'a str, jti: &'a str },
    /// An OIDC authorization request waiting for a sign-in.
    PendingAuthorization(&'a str),
    /// A SAML AuthnRequest waiting for a sign-in.
    PendingSaml(&'a str),
    /// A seen SAML request ID (as a replay digest), from an SP.
    SeenSamlRequest(&'a str),
    /// A SAML front-channel logout chain in progress.
    SamlLogoutChain(&'a str),
    /// A seen SAML message ID from a network environment (as a replay digest).
    UpstreamSamlSeen(&'a str),
    /// A network environment's SAML response held while the browser continues.
    UpstreamSamlHeld(&'a str),
    /// The session a network environment's SAML NameID and SessionIndex belong to.
    UpstreamSamlSession(&'a str),
    /// A logout Leerpoort asked a network environment for (SAML), by request ID.
    UpstreamSamlLogout(&'a str),
    /// A sign-in started at a network environment (`kind`: `oidc`, `saml`).
    UpstreamPending { kind: &'a str, key: &'a str },
    /// Sessions linked to a network environment's subject or session id (`value_digest`:
    /// SHA-256 of it, hex).
    UpstreamLink {
        upstream: Uuid,
        kind: &'a str,
        value_digest: &'a str,
    },
    /// A network environment's back-channel logout token `jti`.
    UpstreamJti { upstream: Uuid, jti: &'a str },
    /// A staff sign-in waiting for its second step.
    StaffSecondStep(&'a str),
    /// A staff password link (activation or reset), by its token.
    PasswordLink(&'a str),
    /// A sign-in challenge that has been answered.
    Challenge(&'a str),
    /// A pupil's PIN lock.
    PinLock(Uuid),
    /// The device whose wrong PINs set a pupil's lock: only it is told of the lock.
    PinLockDevice { pupil: Uuid, device: &'a str },
    /// A parent's sign-in block (by subject: account or address digest).
    HomeBlock(&'a str),
    /// A parent's visit at `/thuis` (the children they may choose).
    HomeVisit(&'a str),
    /// A device's block after wrong home login codes.
    HomeCodeBlock(&'a str),
    /// An EDEXML file a coordinator of `school` checked, waiting for "Importeren".
    PendingImport { school: &'a str, token: &'a str },
    /// The operator console's session, by the SHA-256 (hex) of its cookie's value.
    OperatorSession(&'a str),
    /// An operator sign-in link that has been used, by the SHA-256 (hex) of its code: of two
    /// uses at once, one wins.
    OperatorLinkUsed(&'a str),
    /// A publisher's answer to the live licence lookup for a user (the titles they hold).
    LicenceAnswer { rp: Uuid, user: Uuid },
    /// A counter or a throttle.
    Limit(Limit<'a>),
}

/// Counters of attempts (sliding windows) and throttles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit<'a> {
    /// Failed staff sign-ins, per account (e-mail address).
    StaffFailuresOfAccount(&'a str),
    /// Failed staff sign-ins, per client address (bucket).
    StaffFailuresFromAddress(&'a str),
    /// Wrong PINs or pictures, per pupil.
    PinFailuresOfPupil(Uuid),
    /// Wrong PINs or pictures, per client address (bucket).
    PinFailuresFromAddress(&'a str),
    /// Wrong PINs or pictures, per linked or home device.
    PinFailuresOnDevice(&'a str),
    /// Failed parent sign-ins, per subject.
    HomeFailures(&'a str),
    /// Failed parent sign-ins, per client.
    HomeFailuresFromClient(&'a str),
    /// Parent sign-in attempts, per client.
    HomeAttemptsFromClient(&'a str),
    /// Wrong home login codes, per device.
    HomeCodeFailures(&'a str),
    /// One home link mail per address per window.
    HomeLinkMail(&'a str),
    /// One staff link mail per address per window.
    PasswordLinkMail(&'a str),
    /// Password-strength checks, per client address.
    PasswordStrength(&'a str),
    /// School searches ("Kies je school"), per client address (bucket).
    SchoolSearch(&'a str),
    /// Back-channel logouts from a network environment.
    UpstreamBackchannel(Uuid),
    /// Refused back-channel logouts, per client address.
    UpstreamBackchannelRefused(&'a str),
    /// Wrong Dynamic IP update tokens, per client address (bucket).
    DynamicIpFailuresFromAddress(&'a str),
    /// Wrong operator sign-in codes, per client address (bucket).
    OperatorLinkFailuresFromAddress(&'a str),
    /// Writing requests of an LAS for a school (`client`, `school`): pushes and switches.
    LasPushes { client: &'a str, school: &'a str },
    /// Requests of a publisher's or network environment's client to the school-data API.
    SchoolDataReads(&'a str),
    /// Requests of a publisher's or network environment's client to OneRoster rostering.
    OneRosterReads(&'a str),
    /// Requests of a publisher's client to the licence API.
    LicenceRequests(&'a str),
    /// A school's trail noted sign-ins to `rp` refused for `action` (one line per window).
    RefusalNoted {
        school: &'a str,
        rp: Uuid,
        action: &'a str,
    },
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Session(sid) => write!(f, "session:{sid}"),
            Key::SessionEnded(public_sid) => write!(f, "session-ended:{public_sid}"),
            Key::Code(c) => write!(f, "code:{c}"),
            Key::CodeUsed(c) => write!(f, "code-used:{c}"),
            Key::AccessToken(digest) => write!(f, "at:{digest}"),
            Key::Grant(id) => write!(f, "grant:{id}"),
            Key::RefreshUsed(hash) => write!(f, "rt-used:{hash}"),
            Key::ClientAssertionJti { client, jti } => write!(f, "jti:{client}:{jti}"),
            Key::PendingAuthorization(id) => write!(f, "authreq:{id}"),
            Key::PendingSaml(id) => write!(f, "samlauth:{id}"),
            Key::SeenSamlRequest(d) => write!(f, "samlreq:{d}"),
            Key::SamlLogoutChain(id) => write!(f, "samlslo:{id}"),
            Key::UpstreamSamlSeen(d) => write!(f, "samlup-seen:{d}"),
            Key::UpstreamSamlHeld(k) => write!(f, "samlup-held:{k}"),
            Key::UpstreamSamlSession(d) => write!(f, "samlup-sid:{d}"),
            Key::UpstreamSamlLogout(id) => write!(f, "samlup-logout:{id}"),
            Key::UpstreamPending { kind, key } => write!(f, "upstream-pending:{kind}:{key}"),
            Key::UpstreamLink {
                upstream,
                kind,
                value_digest,
            } => write!(f, "upstream-link:{upstream}:{kind}:{value_digest}"),
            Key::UpstreamJti { upstream, jti } => write!(f, "upstream-jti:{upstream}:{jti}"),
            Key::StaffSecondStep(id) => write!(f, "staff2:{id}"),
            Key::PasswordLink(token) => write!(f, "pwlink:{token}"),
            Key::Challenge(c) => write!(f, "challenge:{c}"),
            Key::PinLock(user) => write!(f, "pinlock:{user}"),
            Key::PinLockDevice { pupil, device } => write!(f, "pinlockdev:{pupil}:{device}"),
            Key::HomeBlock(subject) => write!(f, "thuisblock:{subject}"),
            Key::HomeVisit(id) => write!(f, "thuisvisit:{id}"),
            Key::HomeCodeBlock(device) => write!(f, "thuiscodeblock:{device}"),
            Key::PendingImport { school, token } => write!(f, "import-pending:{school}:{token}"),
            Key::OperatorSession(digest) => write!(f, "operator-session:{digest}"),
            Key::OperatorLinkUsed(digest) => write!(f, "operator-link-used:{digest}"),
            Key::LicenceAnswer { rp, user } => write!(f, "licence-answer:{rp}:{user}"),
            Key::Limit(l) => l.fmt(f),
        }
    }
}

impl fmt::Display for Limit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::StaffFailuresOfAccount(email) => write!(f, "rl:staff-fail:acct:{email}"),
            Limit::StaffFailuresFromAddress(ip) => write!(f, "rl:staff-fail:ip:{ip}"),
            Limit::PinFailuresOfPupil(user) => write!(f, "rl:pin-fail:user:{user}"),
            Limit::PinFailuresFromAddress(ip) => write!(f, "rl:pin-fail:ip:{ip}"),
            Limit::PinFailuresOnDevice(d) => write!(f, "rl:pin-fail:dev:{d}"),
            Limit::HomeFailures(subject) => write!(f, "rl:thuis-fail:{subject}"),
            Limit::HomeFailuresFromClient(c) => write!(f, "rl:thuis-fail:ip:{c}"),
            Limit::HomeAttemptsFromClient(c) => write!(f, "rl:thuis-try:ip:{c}"),
            Limit::HomeCodeFailures(device) => write!(f, "rl:thuiscode-fail:{device}"),
            Limit::HomeLinkMail(email) => write!(f, "rl:thuislink:{email}"),
            Limit::PasswordLinkMail(email) => write!(f, "rl:pwlink:{email}"),
            Limit::PasswordStrength(ip) => write!(f, "rl:pwstrength:ip:{ip}"),
            Limit::SchoolSearch(ip) => write!(f, "rl:school-search:ip:{ip}"),
            Limit::UpstreamBackchannel(u) => write!(f, "rl:upstream-bcl:{u}"),
            Limit::UpstreamBackchannelRefused(ip) => write!(f, "rl:upstream-bcl-refused:{ip}"),
            Limit::DynamicIpFailuresFromAddress(ip) => write!(f, "rl:dynip-fail:ip:{ip}"),
            Limit::OperatorLinkFailuresFromAddress(ip) => {
                write!(f, "rl:operator-link-fail:ip:{ip}")
            }
            Limit::LasPushes { client, school } => write!(f, "rl:las-push:{client}:{school}"),
            Limit::SchoolDataReads(client) => write!(f, "rl:schooldata:{client}"),
            Limit::OneRosterReads(client) => write!(f, "rl:oneroster:{client}"),
            Limit::LicenceRequests(client) => write!(f, "rl:licenties:{client}"),
            Limit::RefusalNoted { school, rp, action } => {
                write!(f, "rl:refusal-noted:{school}:{rp}:{action}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored texts are a storage format: pinned, so a change is a decision.
    #[test]
    fn keys_keep_their_stored_text() {
        let u = Uuid::nil();
        let cases: Vec<(Key, &str)> = vec![
            (Key::Session("s"), "session:s"),
            (Key::SessionEnded("p"), "session-ended:p"),
            (Key::Code("c"), "code:c"),
            (Key::CodeUsed("c"), "code-used:c"),
            (Key::AccessToken("d"), "at:d"),
            (Key::Grant("g"), "grant:g"),
            (Key::RefreshUsed("h"), "rt-used:h"),
            (
                Key::ClientAssertionJti {
                    client: "rp",
                    jti: "j",
                },
                "jti:rp:j",
            ),
            (Key::PendingAuthorization("a"), "authreq:a"),
            (Key::PendingSaml("a"), "samlauth:a"),
            (Key::SeenSamlRequest("d"), "samlreq:d"),
            (Key::SamlLogoutChain("c"), "samlslo:c"),
            (Key::UpstreamSamlSeen("d"), "samlup-seen:d"),
            (Key::UpstreamSamlHeld("k"), "samlup-held:k"),
            (Key::UpstreamSamlSession("d"), "samlup-sid:d"),
            (Key::UpstreamSamlLogout("i"), "samlup-logout:i"),
            (
                Key::UpstreamPending {
                    kind: "oidc",
                    key: "k",
                },
                "upstream-pending:oidc:k",
            ),
            (
                Key::UpstreamLink {
                    upstream: u,
                    kind: "sid",
                    value_digest: "d",
                },
                "upstream-link:00000000-0000-0000-0000-000000000000:sid:d",
            ),
            (
                Key::UpstreamJti {
                    upstream: u,
                    jti: "j",
                },
                "upstream-jti:00000000-0000-0000-0000-000000000000:j",
            ),
            (Key::StaffSecondStep("i"), "staff2:i"),
            (Key::PasswordLink("t"), "pwlink:t"),
            (Key::Challenge("c"), "challenge:c"),
            (
                Key::PinLock(u),
                "pinlock:00000000-0000-0000-0000-000000000000",
            ),
            (
                Key::PinLockDevice {
                    pupil: u,
                    device: "d",
                },
                "pinlockdev:00000000-0000-0000-0000-000000000000:d",
            ),
            (Key::HomeBlock("s"), "thuisblock:s"),
            (Key::HomeVisit("v"), "thuisvisit:v"),
            (Key::HomeCodeBlock("d"), "thuiscodeblock:d"),
            (Key::OperatorSession("h"), "operator-session:h"),
            (Key::OperatorLinkUsed("h"), "operator-link-used:h"),
            (
                Key::Limit(Limit::StaffFailuresOfAccount("a@b")),
                "rl:staff-fail:acct:a@b",
            ),
            (
                Key::Limit(Limit::StaffFailuresFromAddress("1.2.3.4")),
                "rl:staff-fail:ip:1.2.3.4",
            ),
            (
                Key::Limit(Limit::PinFailuresOfPupil(u)),
                "rl:pin-fail:user:00000000-0000-0000-0000-000000000000",
            ),
            (
                Key::Limit(Limit::PinFailuresFromAddress("i")),
                "rl:pin-fail:ip:i",
            ),
            (
                Key::Limit(Limit::PinFailuresOnDevice("d")),
                "rl:pin-fail:dev:d",
            ),
            (Key::Limit(Limit::HomeFailures("s")), "rl:thuis-fail:s"),
            (
                Key::Limit(Limit::HomeFailuresFromClient("c")),
                "rl:thuis-fail:ip:c",
            ),
            (
                Key::Limit(Limit::HomeAttemptsFromClient("c")),
                "rl:thuis-try:ip:c",
            ),
            (
                Key::Limit(Limit::LasPushes {
                    client: "c",
                    school: "s",
                }),
                "rl:las-push:c:s",
            ),
            (Key::Limit(Limit::SchoolDataReads("c")), "rl:schooldata:c"),
            (Key::Limit(Limit::OneRosterReads("c")), "rl:oneroster:c"),
            (
                Key::Limit(Limit::HomeCodeFailures("d")),
                "rl:thuiscode-fail:d",
            ),
            (Key::Limit(Limit::HomeLinkMail("e")), "rl:thuislink:e"),
            (Key::Limit(Limit::PasswordLinkMail("e")), "rl:pwlink:e"),
            (
                Key::Limit(Limit::PasswordStrength("i")),
                "rl:pwstrength:ip:i",
            ),
            (
                Key::Limit(Limit::SchoolSearch("i")),
                "rl:school-search:ip:i",
            ),
            (
                Key::Limit(Limit::UpstreamBackchannel(u)),
                "rl:upstream-bcl:00000000-0000-0000-0000-000000000000",
            ),
            (
                Key::Limit(Limit::UpstreamBackchannelRefused("i")),
                "rl:upstream-bcl-refused:i",
            ),
            (
                Key::Limit(Limit::OperatorLinkFailuresFromAddress("i")),
                "rl:operator-link-fail:ip:i",
            ),
        ];
        for (key, text) in cases {
            assert_eq!(key.to_string(), text);
        }
    }
}
