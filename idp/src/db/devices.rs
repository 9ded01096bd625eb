//! [`broker::repo::EnrolledDevices`] on diesel: the `devices` table.

use broker::model::{AuditEvent, EnrolledDevice};
use broker::repo::{EnrolledDevices, RepoError, RepoResult};
use claims::InstellingRef;
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{DieselDirectory, TxError};
use super::schema::devices;
use super::DbConnection;

#[derive(Queryable, Selectable)]
#[diesel(table_name = devices)]
struct DeviceRow {
    id: String,
    school_ref: String,
    name: String,
    enrolled_by: String,
    enrolled_at: i64,
    last_used_at: Option<i64>,
}

impl DeviceRow {
    fn into_domain(self) -> Result<EnrolledDevice, TxError> {
        let bad = |what: &str| RepoError::Backend(format!("device {}: bad {what}", self.id));
        Ok(EnrolledDevice {
            id: Uuid::parse_str(&self.id).map_err(|_| bad("id"))?,
            school: self.school_ref.parse().map_err(|_| bad("school"))?,
            enrolled_by: Uuid::parse_str(&self.enrolled_by).map_err(|_| bad("enrolled_by"))?,
            name: self.name,
            enrolled_at: self.enrolled_at,
            last_used_at: self.last_used_at,
        })
    }
}

fn load(c: &mut DbConnection, id: Uuid) -> Result<Option<EnrolledDevice>, TxError> {
    devices::table
        .find(id.to_string())
        .select(DeviceRow::as_select())
        .first(c)
        .optional()?
        .map(DeviceRow::into_domain)
        .transpose()
}

impl EnrolledDevices for DieselDirectory {
    fn insert_device(
        &self,
        device: EnrolledDevice,
        max: usize,
        audit: AuditEvent,
    ) -> RepoResult<EnrolledDevice> {
        self.audited(audit, |c| {
            let school = device.school.to_string();
            let n: i64 = devices::table
                .filter(devices::school_ref.eq(&school))
                .count()
                .get_result(c)?;
            if n >= i64::try_from(max).unwrap_or(i64::MAX) {
                return Err(RepoError::Conflict(format!(
                    "school {school} already has {n} linked devices"
                ))
                .into());
            }
            diesel::insert_into(devices::table)
                .values((
                    devices::id.eq(device.id.to_string()),
                    devices::school_ref.eq(&school),
                    devices::name.eq(&device.name),
                    devices::enrolled_by.eq(device.enrolled_by.to_string()),
                    devices::enrolled_at.eq(device.enrolled_at),
                    devices::last_used_at.eq(device.last_used_at),
                ))
                .execute(c)?;
            Ok(device)
        })
    }

    fn devices_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<EnrolledDevice>> {
        self.read(|c| {
            devices::table
                .filter(devices::school_ref.eq(school.to_string()))
                .order((devices::enrolled_at.desc(), devices::id.asc()))
                .select(DeviceRow::as_select())
                .load(c)?
                .into_iter()
                .map(DeviceRow::into_domain)
                .collect()
        })
    }

    fn device(&self, id: Uuid) -> RepoResult<Option<EnrolledDevice>> {
        self.read(|c| load(c, id))
    }

    fn device_in_use(
        &self,
        id: Uuid,
        school: &InstellingRef,
        now: i64,
        resolution: i64,
    ) -> RepoResult<bool> {
        self.read(|c| {
            let row = devices::table
                .find(id.to_string())
                .filter(devices::school_ref.eq(school.to_string()))
                .select(devices::last_used_at)
                .first::<Option<i64>>(c)
                .optional()?;
            let Some(last) = row else {
                return Ok(false);
            };
            if last.is_none_or(|at| at <= now - resolution) {
                // A revocation between the read and this write leaves nothing to update.
                diesel::update(devices::table.find(id.to_string()))
                    .set(devices::last_used_at.eq(Some(now)))
                    .execute(c)?;
            }
            Ok(true)
        })
    }

    fn revoke_device(
        &self,
        school: &InstellingRef,
        id: Uuid,
        audit: AuditEvent,
    ) -> RepoResult<Option<EnrolledDevice>> {
        self.audited(audit, |c| {
            let Some(found) = load(c, id)?.filter(|d| &d.school == school) else {
                return Ok(None);
            };
            diesel::delete(devices::table.find(id.to_string())).execute(c)?;
            Ok(Some(found))
        })
    }
}
