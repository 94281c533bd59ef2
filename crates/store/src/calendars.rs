//! The business-hours calendars in force (policies.md §2): the three
//! built-in calendars with the holiday lists an admin configured (the
//! `calendar_holidays` setting: `{"business": ["2026-12-25", ...]}`).

use std::{collections::BTreeMap, sync::Arc};

use serde_json::Value;
use steward_domain::{
    calendar::Calendar,
    sla::{Calendars, OpenHours},
    time::parse_date,
};

use crate::{
    Store,
    error::{Result, StoreError},
};

pub const BUILTIN: [&str; 3] = ["24x7", "business", "extended"];
const HOLIDAYS_KEY: &str = "calendar_holidays";

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

impl Store {
    pub async fn calendars(&self) -> Result<Arc<CalendarSet>> {
        if let Some(c) = self.calendars.fresh() {
            return Ok(c);
        }
        let holidays = self.setting(HOLIDAYS_KEY).await?.unwrap_or(Value::Null);
        let set = Arc::new(build(&holidays)?);
        self.calendars.put(set.clone());
        Ok(set)
    }

    /// Replaces a calendar's holiday list.
    pub async fn set_holidays(&self, calendar: &str, dates: &[String], now: i64) -> Result<()> {
        if !BUILTIN.contains(&calendar) {
            return Err(StoreError::NotFound("calendar"));
        }
        let mut all = self
            .setting(HOLIDAYS_KEY)
            .await?
            .unwrap_or_else(|| Value::Object(Default::default()));
        for d in dates {
            parse_date(d).map_err(|e| StoreError::invalid("holidays", e.0))?;
        }
        if let Value::Object(map) = &mut all {
            map.insert(calendar.to_string(), serde_json::to_value(dates)?);
        }
        build(&all)?;
        self.put_setting(HOLIDAYS_KEY, &all, now).await?;
        self.calendars.clear();
        Ok(())
    }
}

fn build(holidays: &Value) -> Result<CalendarSet> {
    let mut out = BTreeMap::new();
    for name in BUILTIN {
        let base = Calendar::builtin(name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let dates = holidays
            .get(name)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|d| parse_date(d).ok())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        out.insert(
            name.to_string(),
            if dates.is_empty() {
                base
            } else {
                base.with_holidays(&dates)
            },
        );
    }
    Ok(CalendarSet(out))
}
