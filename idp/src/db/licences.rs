//! [`broker::repo::Licences`] on diesel: the `licence_titles`, `title_icons`, `licences` and
//! `niveaus` tables.

use base64::Engine as _;
use broker::licences::{Holder, Licence, LicenceChange, NiveauHolder, Title, TitleKey};
use broker::model::AuditEvent;
use broker::repo::{holder_kind, Licences, RepoError, RepoResult, StoredIcon};
use claims::{InstellingRef, Jaargroep};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory};
use super::schema::{licence_endpoints, licence_titles, licences, niveaus, title_icons};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = licence_titles, treat_none_as_null = true)]
struct TitleRow {
    rp_id: String,
    methode_id: String,
    product_id: String,
    code: Option<String>,
    name: String,
    icon_hash: Option<String>,
    url: Option<String>,
    teacher_app: bool,
    test_app: bool,
    home_allowed: bool,
    created_at: i64,
    updated_at: i64,
}

impl TitleRow {
    fn into_domain(self) -> RepoResult<Title> {
        Ok(Title {
            key: TitleKey {
                rp: parse_uuid(&self.rp_id)?,
                methode: self.methode_id,
                product: Some(self.product_id).filter(|p| !p.is_empty()),
            },
            code: self.code,
            name: self.name,
            icon: self.icon_hash,
            url: self.url,
            teacher_app: self.teacher_app,
            test_app: self.test_app,
            home_allowed: self.home_allowed,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = licences)]
struct LicenceRow {
    rp_id: String,
    methode_id: String,
    product_id: String,
    school_ref: String,
    holder_kind: String,
    holder: String,
    granted_at: i64,
}

impl LicenceRow {
    fn of(l: &Licence, now: i64) -> Self {
        LicenceRow {
            rp_id: l.title.rp.to_string(),
            methode_id: l.title.methode.clone(),
            product_id: l.title.product.clone().unwrap_or_default(),
            school_ref: l.school.to_string(),
            holder_kind: holder_kind(&l.holder).to_string(),
            holder: match l.holder {
                Holder::User(u) | Holder::Group(u) => u.to_string(),
                Holder::School => String::new(),
            },
            granted_at: now,
        }
    }

    fn into_domain(self) -> RepoResult<Licence> {
        let holder = match self.holder_kind.as_str() {
            "user" => Holder::User(parse_uuid(&self.holder)?),
            "group" => Holder::Group(parse_uuid(&self.holder)?),
            "school" => Holder::School,
            other => return Err(corrupt("licence holder", other)),
        };
        Ok(Licence {
            title: TitleKey {
                rp: parse_uuid(&self.rp_id)?,
                methode: self.methode_id,
                product: Some(self.product_id).filter(|p| !p.is_empty()),
            },
            school: parse_ref(&self.school_ref)?,
            holder,
        })
    }
}

fn product_of(key: &TitleKey) -> String {
    key.product.clone().unwrap_or_default()
}

fn niveau_holder(h: &NiveauHolder) -> (&'static str, String) {
    match h {
        NiveauHolder::User(u) => ("user", u.to_string()),
        NiveauHolder::Group(g) => ("group", g.to_string()),
    }
}

fn jaargroep(n: i32) -> RepoResult<Jaargroep> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Jaargroep::new(n).ok())
        .ok_or_else(|| corrupt("niveau", n))
}

impl Licences for DieselDirectory {
    fn titles_of(&self, rp: Uuid) -> RepoResult<Vec<Title>> {
        self.titles_of_many(&[rp])
    }

    fn titles_of_many(&self, rps: &[Uuid]) -> RepoResult<Vec<Title>> {
        let ids: Vec<String> = rps.iter().map(Uuid::to_string).collect();
        self.load_all(
            |c| {
                licence_titles::table
                    .filter(licence_titles::rp_id.eq_any(&ids))
                    .order((
                        licence_titles::rp_id,
                        licence_titles::methode_id,
                        licence_titles::product_id,
                    ))
                    .select(TitleRow::as_select())
                    .load(c)
            },
            TitleRow::into_domain,
        )
    }

    fn put_title(
        &self,
        title: Title,
        icon: Option<protocol::icon::Icon>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<bool> {
        let key = (
            title.key.rp.to_string(),
            title.key.methode.clone(),
            product_of(&title.key),
        );
        self.audited(audit, |c| {
            if title.key.product.is_some() {
                let methode = licence_titles::table
                    .find((&key.0, &key.1, ""))
                    .count()
                    .get_result::<i64>(c)?;
                if methode == 0 {
                    return Err(RepoError::NotFound(format!(
                        "no methode with id {}",
                        title.key.methode
                    ))
                    .into());
                }
            }
            if let Some(i) = &icon {
                let hash = i.hash();
                let known = title_icons::table
                    .find(&hash)
                    .count()
                    .get_result::<i64>(c)?;
                if known == 0 {
                    diesel::insert_into(title_icons::table)
                        .values((
                            title_icons::hash.eq(&hash),
                            title_icons::content_type.eq(i.content_type),
                            title_icons::data
                                .eq(base64::engine::general_purpose::STANDARD.encode(&i.bytes)),
                            title_icons::created_at.eq(now),
                        ))
                        .execute(c)?;
                }
            }
            let existing = licence_titles::table
                .find((&key.0, &key.1, &key.2))
                .select(licence_titles::created_at)
                .first::<i64>(c)
                .optional()?;
            let row = TitleRow {
                rp_id: key.0.clone(),
                methode_id: key.1.clone(),
                product_id: key.2.clone(),
                code: title.code.clone(),
                name: title.name.clone(),
                icon_hash: title.icon.clone(),
                url: title.url.clone(),
                teacher_app: title.teacher_app,
                test_app: title.test_app,
                home_allowed: title.home_allowed,
                created_at: existing.unwrap_or(now),
                updated_at: now,
            };
            match existing {
                Some(_) => {
                    diesel::update(licence_titles::table.find((&key.0, &key.1, &key.2)))
                        .set(&row)
                        .execute(c)?;
                    Ok(false)
                }
                None => {
                    diesel::insert_into(licence_titles::table)
                        .values(&row)
                        .execute(c)?;
                    Ok(true)
                }
            }
        })
    }

    fn remove_title(&self, key: &TitleKey, audit: AuditEvent) -> RepoResult<bool> {
        let (rp, m) = (key.rp.to_string(), key.methode.clone());
        let product = key.product.clone();
        self.audited(audit, |c| {
            // A methode takes its products along.
            let (lic, titles) = match &product {
                Some(p) => (
                    diesel::delete(
                        licences::table
                            .filter(licences::rp_id.eq(&rp))
                            .filter(licences::methode_id.eq(&m))
                            .filter(licences::product_id.eq(p)),
                    )
                    .execute(c)?,
                    diesel::delete(licence_titles::table.find((&rp, &m, p))).execute(c)?,
                ),
                None => (
                    diesel::delete(
                        licences::table
                            .filter(licences::rp_id.eq(&rp))
                            .filter(licences::methode_id.eq(&m)),
                    )
                    .execute(c)?,
                    diesel::delete(
                        licence_titles::table
                            .filter(licence_titles::rp_id.eq(&rp))
                            .filter(licence_titles::methode_id.eq(&m)),
                    )
                    .execute(c)?,
                ),
            };
            let _ = lic;
            Ok(titles > 0)
        })
    }

    fn icon(&self, hash: &str) -> RepoResult<Option<StoredIcon>> {
        self.find(
            |c| {
                title_icons::table
                    .find(hash)
                    .select((title_icons::content_type, title_icons::data))
                    .first::<(String, String)>(c)
            },
            |(content_type, data)| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| corrupt("icon", e))?;
                Ok(StoredIcon {
                    content_type,
                    bytes,
                })
            },
        )
    }

    fn licences_of_title(&self, key: &TitleKey, kind: Option<&str>) -> RepoResult<Vec<Licence>> {
        let (rp, m, p) = (key.rp.to_string(), key.methode.clone(), product_of(key));
        let kind = kind.map(str::to_string);
        self.load_all(
            |c| {
                let mut q = licences::table
                    .filter(licences::rp_id.eq(&rp))
                    .filter(licences::methode_id.eq(&m))
                    .filter(licences::product_id.eq(&p))
                    .into_boxed();
                if let Some(k) = &kind {
                    q = q.filter(licences::holder_kind.eq(k.clone()));
                }
                q.order((
                    licences::school_ref,
                    licences::holder_kind,
                    licences::holder,
                ))
                .select(LicenceRow::as_select())
                .load(c)
            },
            LicenceRow::into_domain,
        )
    }

    fn change_licences(
        &self,
        change: &LicenceChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<(usize, usize)> {
        self.audited(audit, |c| {
            let mut removed = 0;
            for (key, kind) in &change.clear {
                removed += diesel::delete(
                    licences::table
                        .filter(licences::rp_id.eq(key.rp.to_string()))
                        .filter(licences::methode_id.eq(&key.methode))
                        .filter(licences::product_id.eq(product_of(key)))
                        .filter(licences::holder_kind.eq(*kind)),
                )
                .execute(c)?;
            }
            for l in &change.remove {
                let r = LicenceRow::of(l, now);
                removed += diesel::delete(licences::table.find((
                    &r.rp_id,
                    &r.methode_id,
                    &r.product_id,
                    &r.school_ref,
                    &r.holder_kind,
                    &r.holder,
                )))
                .execute(c)?;
            }
            let mut added = 0;
            for l in &change.add {
                let r = LicenceRow::of(l, now);
                let title = licence_titles::table
                    .find((&r.rp_id, &r.methode_id, &r.product_id))
                    .count()
                    .get_result::<i64>(c)?;
                if title == 0 {
                    return Err(RepoError::NotFound("no such title".into()).into());
                }
                let there = licences::table
                    .find((
                        &r.rp_id,
                        &r.methode_id,
                        &r.product_id,
                        &r.school_ref,
                        &r.holder_kind,
                        &r.holder,
                    ))
                    .count()
                    .get_result::<i64>(c)?;
                if there == 0 {
                    diesel::insert_into(licences::table).values(&r).execute(c)?;
                    added += 1;
                }
            }
            Ok((added, removed))
        })
    }

    fn licences_reaching(
        &self,
        school: &InstellingRef,
        user: Uuid,
        groups: &[Uuid],
    ) -> RepoResult<Vec<Licence>> {
        let groups: Vec<String> = groups.iter().map(Uuid::to_string).collect();
        let (user, school) = (user.to_string(), school.to_string());
        self.load_all(
            |c| {
                licences::table
                    .filter(
                        (licences::holder_kind
                            .eq("user")
                            .and(licences::holder.eq(&user)))
                        .or(licences::holder_kind
                            .eq("group")
                            .and(licences::holder.eq_any(&groups)))
                        .or(licences::holder_kind
                            .eq("school")
                            .and(licences::school_ref.eq(&school))),
                    )
                    .select(LicenceRow::as_select())
                    .load(c)
            },
            LicenceRow::into_domain,
        )
    }

    fn licence_endpoints(&self, rps: &[Uuid]) -> RepoResult<Vec<(Uuid, String)>> {
        let ids: Vec<String> = rps.iter().map(Uuid::to_string).collect();
        self.load_all(
            |c| {
                licence_endpoints::table
                    .filter(licence_endpoints::rp_id.eq_any(&ids))
                    .select((licence_endpoints::rp_id, licence_endpoints::url))
                    .load::<(String, String)>(c)
            },
            |(rp, url)| Ok((parse_uuid(&rp)?, url)),
        )
    }

    fn set_licence_endpoint(
        &self,
        rp: Uuid,
        url: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        let id = rp.to_string();
        self.audited(audit, |c| {
            diesel::delete(licence_endpoints::table.find(&id)).execute(c)?;
            if let Some(u) = url {
                diesel::insert_into(licence_endpoints::table)
                    .values((
                        licence_endpoints::rp_id.eq(&id),
                        licence_endpoints::url.eq(u),
                        licence_endpoints::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    fn niveaus_of_school(
        &self,
        school: &InstellingRef,
    ) -> RepoResult<Vec<(NiveauHolder, Jaargroep)>> {
        self.load_all(
            |c| {
                niveaus::table
                    .filter(niveaus::school_ref.eq(school.to_string()))
                    .order((niveaus::holder_kind, niveaus::holder, niveaus::jaargroep))
                    .select((niveaus::holder_kind, niveaus::holder, niveaus::jaargroep))
                    .load::<(String, String, i32)>(c)
            },
            |(kind, holder, j)| {
                let id = parse_uuid(&holder)?;
                let h = match kind.as_str() {
                    "user" => NiveauHolder::User(id),
                    "group" => NiveauHolder::Group(id),
                    other => return Err(corrupt("niveau holder", other)),
                };
                Ok((h, jaargroep(j)?))
            },
        )
    }

    fn set_niveaus(
        &self,
        school: &InstellingRef,
        holder: &NiveauHolder,
        levels: &[Jaargroep],
        audit: AuditEvent,
    ) -> RepoResult<()> {
        let (kind, id) = niveau_holder(holder);
        let school = school.to_string();
        self.audited(audit, |c| {
            diesel::delete(
                niveaus::table
                    .filter(niveaus::school_ref.eq(&school))
                    .filter(niveaus::holder_kind.eq(kind))
                    .filter(niveaus::holder.eq(&id)),
            )
            .execute(c)?;
            for j in levels {
                diesel::insert_into(niveaus::table)
                    .values((
                        niveaus::school_ref.eq(&school),
                        niveaus::holder_kind.eq(kind),
                        niveaus::holder.eq(&id),
                        niveaus::jaargroep.eq(i32::from(j.get())),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    fn niveaus_reaching(&self, user: Uuid, groups: &[Uuid]) -> RepoResult<Vec<Jaargroep>> {
        let groups: Vec<String> = groups.iter().map(Uuid::to_string).collect();
        let user = user.to_string();
        let mut levels = self.load_all(
            |c| {
                niveaus::table
                    .filter(
                        (niveaus::holder_kind
                            .eq("user")
                            .and(niveaus::holder.eq(&user)))
                        .or(niveaus::holder_kind
                            .eq("group")
                            .and(niveaus::holder.eq_any(&groups))),
                    )
                    .select(niveaus::jaargroep)
                    .load::<i32>(c)
            },
            jaargroep,
        )?;
        levels.sort();
        levels.dedup();
        Ok(levels)
    }
}
