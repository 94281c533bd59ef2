//! The business-hours calendars in force (policies.md §2): the three
//! built-in calendars (`24x7`, `business`, `extended`) and any an admin
//! defined, each a `CalendarDef` (zone, weekly hours, holidays) stored in
//! the `calendars` setting. An admin's definition under a built-in name
//! replaces the built-in (to add holidays or change hours); other names add
//! calendars that SLA policies may then use.

use std::{collections::BTreeMap, sync::Arc};

use serde_json::Value;
use steward_domain::{
    calendar::{Calendar, CalendarDef},
    sla::{Calendars, OpenHours},
};

use crate::{
    Store,
    error::{Result, StoreError},
};

pub const BUILTIN: [&str; 3] = ["24x7", "business", "extended"];
const KEY: &str = "calendars";

/// Calendars by name.
pub struct CalendarSet(BTreeMap<String, Calendar>);

impl Calendars for CalendarSet {
    fn get(&self, name: &str) -> Option<&dyn OpenHours> {
        self.0.get(name).map(|c| c as &dyn OpenHours)
    }
}

impl CalendarSet {
    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// What an admin may send for a calendar; omitted parts keep their value.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarPatch {
    pub zone: Option<String>,
    pub hours: Option<steward_domain::calendar::WeeklyHours>,
    pub holidays: Option<Vec<jiff::civil::Date>>,
}

impl Store {
    pub async fn calendars(&self) -> Result<Arc<CalendarSet>> {
        if let Some(c) = self.calendars.fresh() {
            return Ok(c);
        }
        let mut conn = self.reader().await?;
        self.calendars_in(&mut conn).await
    }

    /// [`Store::calendars`] on a given connection (see `setting_in`).
    pub(crate) async fn calendars_in(
        &self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Arc<CalendarSet>> {
        if let Some(c) = self.calendars.fresh() {
            return Ok(c);
        }
        let defs = Self::calendar_defs_in(conn).await?;
        let set = Arc::new(build(&defs)?);
        self.calendars.put(set.clone());
        Ok(set)
    }

    async fn calendar_defs(&self) -> Result<BTreeMap<String, CalendarDef>> {
        let mut conn = self.reader().await?;
        Self::calendar_defs_in(&mut conn).await
    }

    async fn calendar_defs_in(
        conn: &mut sqlx::AnyConnection,
    ) -> Result<BTreeMap<String, CalendarDef>> {
        let stored = Self::setting_in(conn, KEY).await?.unwrap_or(Value::Null);
        let mut defs: BTreeMap<String, CalendarDef> = BTreeMap::new();
        for name in BUILTIN {
            let def = CalendarDef::builtin(name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            defs.insert(name.to_string(), def);
        }
        if let Value::Object(map) = stored {
            for (name, v) in map {
                let def: CalendarDef = serde_json::from_value(v)
                    .map_err(|e| StoreError::Corrupt(format!("calendar {name}: {e}")))?;
                defs.insert(name, def);
            }
        }
        Ok(defs)
    }

    /// Creates or changes a calendar (admins). The result is validated
    /// before it is saved; names are lower-case letters, digits, `-`, `_`.
    pub async fn put_calendar(&self, name: &str, patch: CalendarPatch, now: i64) -> Result<()> {
        let valid_name = !name.is_empty()
            && name.len() <= 40
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid_name {
            return Err(StoreError::invalid(
                "name",
                "use 1-40 lower-case letters, digits, - or _",
            ));
        }
        let mut defs = self.calendar_defs().await?;
        let mut def = match defs.get(name) {
            Some(d) => d.clone(),
            None => match (&patch.zone, &patch.hours) {
                (Some(zone), Some(hours)) => CalendarDef {
                    name: name.to_string(),
                    zone: zone.clone(),
                    hours: hours.clone(),
                    holidays: Vec::new(),
                },
                _ => {
                    return Err(StoreError::invalid(
                        "calendar",
                        "a new calendar needs a zone and hours",
                    ));
                }
            },
        };
        if let Some(z) = patch.zone {
            def.zone = z;
        }
        if let Some(h) = patch.hours {
            def.hours = h;
        }
        if let Some(h) = patch.holidays {
            def.holidays = h;
        }
        Calendar::from_def(&def).map_err(|e| StoreError::invalid("calendar", e.to_string()))?;
        defs.insert(name.to_string(), def);
        self.save_calendars(&defs, now).await
    }

    /// Removes an admin-defined calendar no SLA policy uses; removing a
    /// built-in's override restores the built-in.
    pub async fn delete_calendar(&self, name: &str, now: i64) -> Result<()> {
        let mut defs = self.calendar_defs().await?;
        if !defs.contains_key(name) {
            return Err(StoreError::NotFound("calendar"));
        }
        if !BUILTIN.contains(&name) {
            let policies = self.sla_policies().await?;
            let used = policies.0.iter().flat_map(|p| &p.targets).any(|t| {
                t.within.calendar == name
                    || t.outside_hours.as_ref().is_some_and(|o| o.calendar == name)
                    || t.hours_calendar.as_deref() == Some(name)
            });
            if used {
                return Err(StoreError::invalid("calendar", "an SLA policy uses it"));
            }
        }
        defs.remove(name);
        self.save_calendars(&defs, now).await
    }

    async fn save_calendars(&self, defs: &BTreeMap<String, CalendarDef>, now: i64) -> Result<()> {
        // Store only what differs from the built-ins.
        let mut custom = serde_json::Map::new();
        for (name, def) in defs {
            let builtin = CalendarDef::builtin(name).ok();
            if builtin.as_ref() != Some(def) {
                custom.insert(name.clone(), serde_json::to_value(def)?);
            }
        }
        self.put_setting(KEY, &Value::Object(custom), now).await?;
        self.calendars.clear();
        Ok(())
    }
}

fn build(defs: &BTreeMap<String, CalendarDef>) -> Result<CalendarSet> {
    let mut out = BTreeMap::new();
    for (name, def) in defs {
        let cal = Calendar::from_def(def)
            .map_err(|e| StoreError::Corrupt(format!("calendar {name}: {e}")))?;
        out.insert(name.clone(), cal);
    }
    Ok(CalendarSet(out))
}
