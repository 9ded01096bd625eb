//! The query parameters of a OneRoster 1.2 collection read (§3.4): `filter` in the spec's
//! grammar, `sort` with `orderBy`, `fields`, `limit` and `offset`.
//!
//! The filter grammar: a clause is `field predicate 'value'`, the predicate one of `=`, `!=`,
//! `>`, `>=`, `<`, `<=` and `~` (contains); clauses are joined by ` AND ` or ` OR ` (`AND`
//! binds more tightly). A field may be a dotted path into an object or a list of them
//! (`roles.role`). Equality and containment ignore case; `>`/`<` compare moments when both
//! sides are dates or date-times (`dateLastModified>'2026-11-01'`), numbers when both are
//! numbers, else text.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// The default page length, and the longest.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

/// The fields of a kind of object: what `filter`, `sort` and `fields` may name.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub names: &'static [&'static str],
    /// Short names for paths (`role` for a user's `roles.role`).
    pub aliases: &'static [(&'static str, &'static str)],
}

impl Fields {
    /// The path a field name stands for, when it is one of the object's.
    fn path(&self, name: &str) -> Option<String> {
        if let Some((_, p)) = self.aliases.iter().find(|(a, _)| *a == name) {
            return Some((*p).to_string());
        }
        let first = name.split('.').next().unwrap_or("");
        self.names.contains(&first).then(|| name.to_string())
    }
}

const COMMON: [&str; 4] = ["sourcedId", "status", "dateLastModified", "metadata"];

macro_rules! fields {
    ($($n:literal),* $(,)?) => {
        &[COMMON[0], COMMON[1], COMMON[2], COMMON[3], $($n),*]
    };
}

pub const ORG: Fields = Fields {
    names: fields!["name", "type", "identifier", "parent", "children"],
    aliases: &[],
};
pub const ACADEMIC_SESSION: Fields = Fields {
    names: fields![
        "title",
        "startDate",
        "endDate",
        "type",
        "parent",
        "children",
        "schoolYear",
        "org"
    ],
    aliases: &[],
};
pub const CLASS: Fields = Fields {
    names: fields![
        "title",
        "classCode",
        "classType",
        "location",
        "grades",
        "subjects",
        "course",
        "school",
        "terms",
        "subjectCodes",
        "periods",
        "resources"
    ],
    aliases: &[],
};
pub const COURSE: Fields = Fields {
    names: fields![
        "title",
        "schoolYear",
        "courseCode",
        "grades",
        "subjects",
        "org",
        "subjectCodes",
        "resources"
    ],
    aliases: &[],
};
pub const USER: Fields = Fields {
    names: fields![
        "userMasterIdentifier",
        "username",
        "userIds",
        "enabledUser",
        "givenName",
        "familyName",
        "middleName",
        "preferredFirstName",
        "preferredMiddleName",
        "preferredLastName",
        "pronouns",
        "roles",
        "userProfiles",
        "identifier",
        "email",
        "sms",
        "phone",
        "agents",
        "grades",
        "password",
        "primaryOrg"
    ],
    aliases: &[
        ("role", "roles.role"),
        ("orgSourcedId", "roles.org.sourcedId"),
    ],
};
pub const ENROLLMENT: Fields = Fields {
    names: fields![
        "user",
        "class",
        "school",
        "role",
        "primary",
        "beginDate",
        "endDate"
    ],
    aliases: &[],
};

/// What is wrong with a query, as the spec's `imsx_CodeMinor` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// `filter` names a field the object does not have, or cannot be read.
    Filter(String),
    /// `sort` names a field the object does not have.
    Sort(String),
    /// `fields` names a field the object does not have.
    Selection(String),
    /// `limit`, `offset` or `orderBy` is not a value they take.
    Data(String),
}

impl QueryError {
    pub fn code_minor(&self) -> &'static str {
        match self {
            Self::Filter(_) => "invalid_filter_field",
            Self::Sort(_) => "invalid_sort_field",
            Self::Selection(_) => "invalid_selection_field",
            Self::Data(_) => "invalid_data",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Self::Filter(d) | Self::Sort(d) | Self::Selection(d) | Self::Data(d) => d,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Predicate {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    path: String,
    predicate: Predicate,
    value: String,
}

/// A parsed `filter`: clauses joined by `OR`, each of clauses joined by `AND`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    any_of: Vec<Vec<Clause>>,
}

/// The most clauses one filter may hold.
const MAX_CLAUSES: usize = 16;

impl Filter {
    /// Parse `text` for objects with `fields`.
    pub fn parse(text: &str, fields: &Fields) -> Result<Self, QueryError> {
        let bad = |why: &str| QueryError::Filter(format!("the filter cannot be read: {why}"));
        let mut rest = text.trim_start();
        let mut any_of: Vec<Vec<Clause>> = vec![Vec::new()];
        let mut count = 0;
        loop {
            // The field.
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() {
                return Err(bad("a field name is missing"));
            }
            let path = fields.path(name).ok_or_else(|| {
                QueryError::Filter(format!("the filter names an unknown field: {name}"))
            })?;
            rest = rest[end..].trim_start();
            // The predicate.
            let (predicate, len) = [
                (">=", Predicate::Ge),
                ("<=", Predicate::Le),
                ("!=", Predicate::Ne),
                ("=", Predicate::Eq),
                (">", Predicate::Gt),
                ("<", Predicate::Lt),
                ("~", Predicate::Contains),
            ]
            .iter()
            .find(|(p, _)| rest.starts_with(p))
            .map(|(p, pr)| (*pr, p.len()))
            .ok_or_else(|| bad("a predicate (=, !=, >, >=, <, <=, ~) is missing"))?;
            rest = rest[len..].trim_start();
            // The value, in single quotes.
            let Some(after) = rest.strip_prefix('\'') else {
                return Err(bad("a value must be in single quotes"));
            };
            let close = after
                .find('\'')
                .ok_or_else(|| bad("a quote is not closed"))?;
            let value = after[..close].to_string();
            rest = after[close + 1..].trim_start();
            count += 1;
            if count > MAX_CLAUSES {
                return Err(bad("too many clauses"));
            }
            if let Some(last) = any_of.last_mut() {
                last.push(Clause {
                    path,
                    predicate,
                    value,
                });
            }
            if rest.is_empty() {
                break;
            }
            if let Some(r) = rest.strip_prefix("AND ") {
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("OR ") {
                rest = r.trim_start();
                any_of.push(Vec::new());
            } else {
                return Err(bad("clauses are joined by AND or OR"));
            }
        }
        Ok(Self { any_of })
    }

    /// Does `v` pass?
    pub fn admits(&self, v: &Value) -> bool {
        self.any_of.is_empty()
            || self
                .any_of
                .iter()
                .any(|all| all.iter().all(|c| clause_admits(c, v)))
    }
}

/// The leaf values at `path` in `v` (every element of a list on the way), as text; `[""]`
/// when there is none.
fn values_at(v: &Value, path: &str) -> Vec<String> {
    let mut here = vec![v];
    for seg in path.split('.') {
        let mut next = Vec::new();
        for h in here {
            match h {
                Value::Array(items) => {
                    for i in items {
                        if let Some(x) = i.get(seg) {
                            next.push(x);
                        }
                    }
                }
                other => {
                    if let Some(x) = other.get(seg) {
                        next.push(x);
                    }
                }
            }
        }
        here = next;
    }
    let mut out = Vec::new();
    for h in here {
        match h {
            Value::Array(items) => out.extend(items.iter().filter_map(text)),
            other => out.extend(text(other)),
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A date (`2026-11-23`, midnight UTC) or a date-time as unix seconds.
fn moment(s: &str) -> Option<i64> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_second())
}

/// Order two texts as moments, numbers, or text.
fn compare(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (moment(a), moment(b)) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.cmp(b)
}

fn clause_admits(c: &Clause, v: &Value) -> bool {
    let values = values_at(v, &c.path);
    let want = c.value.to_lowercase();
    let eq = |x: &String| x.to_lowercase() == want || compare(x, &c.value) == Ordering::Equal;
    match c.predicate {
        Predicate::Eq => values.iter().any(eq),
        Predicate::Ne => !values.iter().any(eq),
        Predicate::Contains => values.iter().any(|x| x.to_lowercase().contains(&want)),
        Predicate::Gt => values
            .iter()
            .any(|x| compare(x, &c.value) == Ordering::Greater),
        Predicate::Ge => values
            .iter()
            .any(|x| compare(x, &c.value) != Ordering::Less),
        Predicate::Lt => values
            .iter()
            .any(|x| compare(x, &c.value) == Ordering::Less),
        Predicate::Le => values
            .iter()
            .any(|x| compare(x, &c.value) != Ordering::Greater),
    }
}

/// A read's parameters, checked against the object's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    /// The path to sort by, and descending.
    pub sort: Option<(String, bool)>,
    /// The top-level fields to show (`None`: all).
    pub fields: Option<Vec<String>>,
    pub limit: usize,
    pub offset: usize,
}

impl Query {
    /// Read `params` (name, value; the first of a name counts) for objects with `fields`.
    pub fn parse(params: &[(String, String)], fields: &Fields) -> Result<Self, QueryError> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let number = |name: &str, default: usize, min: usize, max: usize| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    QueryError::Data(format!("{name} must be a whole number from {min} to {max}"))
                }),
        };
        let filter = match get("filter").map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Filter::parse(f, fields)?,
            None => Filter::default(),
        };
        let descending = match get("orderBy").map(str::trim) {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(QueryError::Data("orderBy is asc or desc".into())),
        };
        let sort = match get("sort").map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some((
                fields
                    .path(s)
                    .ok_or_else(|| QueryError::Sort(format!("sort names an unknown field: {s}")))?,
                descending,
            )),
            None => None,
        };
        let fields = match get("fields").map(str::trim).filter(|s| !s.is_empty()) {
            Some(list) => {
                let mut out = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if !fields.names.contains(&name) {
                        return Err(QueryError::Selection(format!(
                            "fields names an unknown field: {name}"
                        )));
                    }
                    out.push(name.to_string());
                }
                Some(out)
            }
            None => None,
        };
        Ok(Self {
            filter,
            sort,
            fields,
            limit: number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            offset: number("offset", 0, 0, u32::MAX as usize)?,
        })
    }

    /// Filter and sort `items`: the whole answer before paging.
    pub fn select(&self, items: Vec<Value>) -> Vec<Value> {
        let mut items: Vec<Value> = items
            .into_iter()
            .filter(|v| self.filter.admits(v))
            .collect();
        if let Some((path, descending)) = &self.sort {
            items.sort_by(|a, b| {
                let o = compare(
                    values_at(a, path).first().map_or("", String::as_str),
                    values_at(b, path).first().map_or("", String::as_str),
                );
                if *descending {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        items
    }

    /// `v` with only the fields asked for.
    pub fn shape(&self, v: Value) -> Value {
        match (&self.fields, v) {
            (Some(names), Value::Object(m)) => {
                let kept: Map<String, Value> = m
                    .into_iter()
                    .filter(|(k, _)| names.iter().any(|n| n == k))
                    .collect();
                Value::Object(kept)
            }
            (_, v) => v,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn q(pairs: &[(&str, &str)], fields: &Fields) -> Result<Query, QueryError> {
        let params: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Query::parse(&params, fields)
    }

    fn anna() -> Value {
        json!({"sourcedId": "a", "status": "active", "dateLastModified": "2026-11-23T08:30:00.000Z",
            "givenName": "Anna", "email": "Anna.deVries@regenboog.example",
            "roles": [{"roleType": "primary", "role": "teacher", "org": {"sourcedId": "s1"}}]})
    }

    fn emma() -> Value {
        json!({"sourcedId": "b", "status": "tobedeleted", "dateLastModified": "2026-12-01T10:00:00.000Z",
            "givenName": "", "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": "s1"}}]})
    }

    fn admits(filter: &str) -> (bool, bool) {
        let f = Filter::parse(filter, &USER).unwrap();
        (f.admits(&anna()), f.admits(&emma()))
    }

    #[test]
    fn one_clause_with_each_predicate() {
        assert_eq!(
            admits("email='anna.devries@regenboog.example'"),
            (true, false)
        );
        assert_eq!(admits("status != 'active'"), (false, true));
        assert_eq!(
            admits("dateLastModified>'2026-11-30T00:00:00Z'"),
            (false, true)
        );
        assert_eq!(admits("dateLastModified>='2026-11-23'"), (true, true));
        assert_eq!(admits("dateLastModified<'2026-11-24'"), (true, false));
        assert_eq!(
            admits("dateLastModified<='2026-11-23T08:30:00.000Z'"),
            (true, false)
        );
        assert_eq!(admits("givenName~'nn'"), (true, false));
        assert_eq!(admits("role='student'"), (false, true));
        assert_eq!(admits("roles.org.sourcedId='s1'"), (true, true));
    }

    #[test]
    fn clauses_joined_by_and_and_or() {
        assert_eq!(admits("status='active' AND role='teacher'"), (true, false));
        assert_eq!(admits("status='active' AND role='student'"), (false, false));
        assert_eq!(admits("role='student' OR givenName='Anna'"), (true, true));
        assert_eq!(
            admits("role='student' AND status='active' OR email~'regenboog'"),
            (true, false),
            "AND binds more tightly"
        );
    }

    #[test]
    fn unknown_fields_and_bad_filters_are_refused_by_kind() {
        let e = Filter::parse("shoeSize='42'", &USER).unwrap_err();
        assert_eq!(e.code_minor(), "invalid_filter_field");
        for bad in [
            "email",
            "email=anna",
            "email='anna",
            "='x'",
            "email='a' XOR status='active'",
            "email=='a'",
        ] {
            let e = Filter::parse(bad, &USER).unwrap_err();
            assert_eq!(e.code_minor(), "invalid_filter_field", "{bad}");
        }
        assert_eq!(
            q(&[("sort", "shoeSize")], &USER).unwrap_err().code_minor(),
            "invalid_sort_field"
        );
        assert_eq!(
            q(&[("fields", "sourcedId,shoeSize")], &USER)
                .unwrap_err()
                .code_minor(),
            "invalid_selection_field"
        );
        for bad in [
            ("limit", "0"),
            ("limit", "10001"),
            ("offset", "-1"),
            ("orderBy", "up"),
        ] {
            assert_eq!(q(&[bad], &USER).unwrap_err().code_minor(), "invalid_data");
        }
        // A class has no email.
        assert!(Filter::parse("email='x'", &CLASS).is_err());
    }

    #[test]
    fn paging_sort_and_fields() {
        let d = q(&[], &USER).unwrap();
        assert_eq!((d.limit, d.offset), (DEFAULT_LIMIT, 0));
        let big = q(&[("limit", "10000"), ("offset", "5")], &USER).unwrap();
        assert_eq!((big.limit, big.offset), (10_000, 5));

        let s = q(&[("sort", "givenName"), ("orderBy", "desc")], &USER).unwrap();
        let out = s.select(vec![emma(), anna()]);
        assert_eq!(out[0]["sourcedId"], "a");
        let s = q(&[("sort", "dateLastModified")], &USER).unwrap();
        let out = s.select(vec![emma(), anna()]);
        assert_eq!(out[0]["sourcedId"], "a");

        let f = q(&[("fields", "sourcedId, email")], &USER).unwrap();
        assert_eq!(
            f.shape(anna()),
            json!({"sourcedId": "a", "email": "Anna.deVries@regenboog.example"})
        );
    }
}
