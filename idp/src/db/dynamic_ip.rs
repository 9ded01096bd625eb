//! [`broker::repo::DynamicIps`] on diesel: the `dynamic_ip` and `dynamic_ip_history` tables,
//! and the school's `dynamic_network`.

use broker::model::{AuditEvent, DynamicIp, DynamicIpChange};
use broker::repo::{DynamicIps, RepoError, RepoResult};
use claims::InstellingRef;
use diesel::prelude::*;
use ipnet::IpNet;

use super::audit::write_audit;
use super::directory::{corrupt, parse_ref, DieselDirectory};
use super::schema::{dynamic_ip, dynamic_ip_history, schools};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = dynamic_ip)]
struct DynamicIpRow {
    school_ref: String,
    token_hash: String,
    created_at: i64,
    seen_at: Option<i64>,
}

impl DynamicIpRow {
    fn into_domain(self) -> RepoResult<DynamicIp> {
        Ok(DynamicIp {
            school: parse_ref(&self.school_ref)?,
            created_at: self.created_at,
            seen_at: self.seen_at,
        })
    }
}

fn no_school(key: &str) -> RepoError {
    RepoError::NotFound(format!("no school with INSTELLING_REF {key}"))
}

impl DynamicIps for DieselDirectory {
    fn dynamic_ip(&self, school: &InstellingRef) -> RepoResult<Option<DynamicIp>> {
        let key = school.to_string();
        self.find(
            |c| {
                dynamic_ip::table
                    .find(&key)
                    .select(DynamicIpRow::as_select())
                    .first(c)
            },
            DynamicIpRow::into_domain,
        )
    }

    fn dynamic_ip_by_token(&self, token_hash: &str) -> RepoResult<Option<InstellingRef>> {
        self.find(
            |c| {
                dynamic_ip::table
                    .filter(dynamic_ip::token_hash.eq(token_hash))
                    .select(dynamic_ip::school_ref)
                    .first::<String>(c)
            },
            |r| parse_ref(&r),
        )
    }

    fn set_dynamic_ip_token(
        &self,
        school: &InstellingRef,
        token_hash: &str,
        audit: AuditEvent,
    ) -> RepoResult<DynamicIp> {
        let key = school.to_string();
        let now = audit.at;
        self.audited(audit, |c| {
            let exists = schools::table.find(&key).count().get_result::<i64>(c)? > 0;
            if !exists {
                return Err(no_school(&key).into());
            }
            let kept_seen = dynamic_ip::table
                .find(&key)
                .select(dynamic_ip::seen_at)
                .first::<Option<i64>>(c)
                .optional()?
                .flatten();
            diesel::delete(dynamic_ip::table.find(&key)).execute(c)?;
            let row = DynamicIpRow {
                school_ref: key.clone(),
                token_hash: token_hash.to_string(),
                created_at: now,
                seen_at: kept_seen,
            };
            diesel::insert_into(dynamic_ip::table)
                .values(&row)
                .execute(c)?;
            Ok(row.into_domain()?)
        })
    }

    fn remove_dynamic_ip(&self, school: &InstellingRef, audit: AuditEvent) -> RepoResult<()> {
        let key = school.to_string();
        let now = audit.at;
        self.school_cache.remove(&key);
        let done = self.audited(audit, |c| {
            let n = diesel::delete(dynamic_ip::table.find(&key)).execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("Dynamic IP is off for {key}")).into());
            }
            diesel::update(schools::table.find(&key))
                .set((
                    schools::dynamic_network.eq(None::<String>),
                    schools::updated_at.eq(now),
                ))
                .execute(c)?;
            Ok(())
        });
        self.school_cache.remove(&key);
        done
    }

    fn record_dynamic_ip(
        &self,
        school: &InstellingRef,
        network: IpNet,
        audit: AuditEvent,
    ) -> RepoResult<bool> {
        let key = school.to_string();
        let now = audit.at;
        let text = network.to_string();
        let changed = self.tx(|c| {
            let current = schools::table
                .find(&key)
                .select(schools::dynamic_network)
                .first::<Option<String>>(c)
                .optional()?
                .ok_or_else(|| no_school(&key))?;
            let n = diesel::update(dynamic_ip::table.find(&key))
                .set(dynamic_ip::seen_at.eq(Some(now)))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("Dynamic IP is off for {key}")).into());
            }
            if current.as_deref() == Some(text.as_str()) {
                return Ok(false);
            }
            diesel::update(schools::table.find(&key))
                .set((
                    schools::dynamic_network.eq(Some(&text)),
                    schools::updated_at.eq(now),
                ))
                .execute(c)?;
            diesel::insert_into(dynamic_ip_history::table)
                .values((
                    dynamic_ip_history::school_ref.eq(&key),
                    dynamic_ip_history::network.eq(&text),
                    dynamic_ip_history::at.eq(now),
                ))
                .execute(c)?;
            write_audit(c, audit)?;
            Ok(true)
        })?;
        if changed {
            self.school_cache.remove(&key);
        }
        Ok(changed)
    }

    fn dynamic_ip_history(
        &self,
        school: &InstellingRef,
        limit: i64,
    ) -> RepoResult<Vec<DynamicIpChange>> {
        let key = school.to_string();
        self.load_all(
            |c| {
                dynamic_ip_history::table
                    .filter(dynamic_ip_history::school_ref.eq(&key))
                    .order(dynamic_ip_history::seq.desc())
                    .limit(limit)
                    .select((dynamic_ip_history::network, dynamic_ip_history::at))
                    .load::<(String, i64)>(c)
            },
            |(network, at)| {
                Ok(DynamicIpChange {
                    network: network.parse().map_err(|e| corrupt("network", e))?,
                    at,
                })
            },
        )
    }
}
