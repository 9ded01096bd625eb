//! A small JSON-schema check for the tests, enough for the OneRoster 1.2 rostering schema
//! (`tests/fixtures/oneroster/`) and the schemas of the OpenAPI document
//! (`docs/api/openapi.json`): `$ref` (a JSON pointer into the same document), `type` (one or
//! several, `null` too) and OpenAPI 3.0's `nullable`, `enum`, `const`, `required`,
//! `properties`, `additionalProperties`, `items`, `minItems`/`maxItems`,
//! `minLength`/`maxLength`, `minimum`/`maximum`, `pattern` (anchored, of character classes
//! and literals with `{n}`, `{m,n}`, `?`, `*`, `+`), `oneOf`/`anyOf`/`allOf`, and the formats
//! `date-time`, `date`, `uri` and `uuid` (others pass). A keyword it does not know panics, so
//! a schema never passes by being misread.

use serde_json::Value;

/// Every violation of `v` against `schema`, by JSON pointer; `$ref`s resolve in `root`.
pub fn errors(root: &Value, schema: &Value, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(root, schema, v, "", &mut out);
    out
}

/// The schema a `$ref` names in `root` (panics when it names none).
pub fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("not a local $ref: {reference}"));
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("unknown $ref {reference}"))
}

fn of_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "null" => v.is_null(),
        other => panic!("type {other}"),
    }
}

fn check(root: &Value, s: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if let Value::Bool(b) = s {
        if !b {
            out.push(format!("{at}: no value is allowed"));
        }
        return;
    }
    let Some(schema) = s.as_object() else {
        panic!("no schema at {at}: {s}");
    };
    if v.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    for (keyword, arg) in schema {
        match keyword.as_str() {
            "$ref" => check(root, resolve(root, arg.as_str().unwrap()), v, at, out),
            "type" => {
                let ok = match arg {
                    Value::Array(ts) => ts.iter().any(|t| of_type(v, t.as_str().unwrap())),
                    t => of_type(v, t.as_str().unwrap()),
                };
                if !ok {
                    out.push(format!("{at}: not of type {arg}"));
                    return;
                }
            }
            "required" => {
                if let Some(m) = v.as_object() {
                    for r in arg.as_array().unwrap() {
                        let r = r.as_str().unwrap();
                        if !m.contains_key(r) {
                            out.push(format!("{at}: {r} is required"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(m) = v.as_object() {
                    for (k, sub) in m {
                        if let Some(ps) = arg.get(k) {
                            check(root, ps, sub, &format!("{at}/{k}"), out);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(m) = v.as_object() {
                    for (k, sub) in m {
                        if schema.get("properties").and_then(|p| p.get(k)).is_none() {
                            match arg {
                                Value::Bool(false) => {
                                    out.push(format!("{at}: {k} is not a member"))
                                }
                                Value::Bool(true) => {}
                                s => check(root, s, sub, &format!("{at}/{k}"), out),
                            }
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        check(root, arg, item, &format!("{at}/{i}"), out);
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Some(a) = v.as_array() {
                    let n = arg.as_u64().unwrap();
                    let len = a.len() as u64;
                    if (keyword == "minItems" && len < n) || (keyword == "maxItems" && len > n) {
                        out.push(format!("{at}: {len} items, {keyword} {n}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let Some(s) = v.as_str() {
                    let n = arg.as_u64().unwrap();
                    let len = s.chars().count() as u64;
                    if (keyword == "minLength" && len < n) || (keyword == "maxLength" && len > n) {
                        out.push(format!("{at}: {len} characters, {keyword} {n}"));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let Some(x) = v.as_f64() {
                    let n = arg.as_f64().unwrap();
                    if (keyword == "minimum" && x < n) || (keyword == "maximum" && x > n) {
                        out.push(format!("{at}: {x} beyond {keyword} {n}"));
                    }
                }
            }
            "enum" => {
                if !arg.as_array().unwrap().contains(v) {
                    out.push(format!("{at}: {v} is not one of {arg}"));
                }
            }
            "const" => {
                if arg != v {
                    out.push(format!("{at}: {v} is not {arg}"));
                }
            }
            "pattern" => {
                let p = arg.as_str().unwrap();
                if let Some(s) = v.as_str() {
                    if !matches_pattern(p, s) {
                        out.push(format!("{at}: {s} does not match {p}"));
                    }
                }
            }
            "format" => {
                if let Some(s) = v.as_str() {
                    let ok = match arg.as_str().unwrap() {
                        "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
                        "date" => s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10,
                        "uri" => url::Url::parse(s).is_ok(),
                        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
                        _ => true,
                    };
                    if !ok {
                        out.push(format!("{at}: {s} is not a {arg}"));
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let passing = arg
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| errors(root, sub, v).is_empty())
                    .count();
                if passing == 0 || (keyword == "oneOf" && passing > 1) {
                    out.push(format!("{at}: {passing} of the {keyword} schemas match"));
                }
            }
            "allOf" => {
                for sub in arg.as_array().unwrap() {
                    check(root, sub, v, at, out);
                }
            }
            "$comment" | "$schema" | "definitions" | "description" | "title" | "default"
            | "example" | "examples" | "contentMediaType" | "nullable" | "deprecated"
            | "readOnly" | "writeOnly" => {}
            other => panic!("the check does not know the keyword {other}"),
        }
    }
}

/// One element of a pattern: what a character may be, and how often.
struct Atom {
    set: Vec<(char, char)>,
    min: usize,
    max: usize,
}

/// `s` matches the anchored pattern `p` (`^…$`), of the subset this check reads.
pub fn matches_pattern(p: &str, s: &str) -> bool {
    let inner = p
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or_else(|| panic!("pattern {p}: only anchored patterns"));
    let mut atoms: Vec<Atom> = Vec::new();
    let mut cs = inner.chars().peekable();
    while let Some(c) = cs.next() {
        let set = match c {
            '[' => {
                let mut class: Vec<char> = Vec::new();
                for c in cs.by_ref() {
                    if c == ']' {
                        break;
                    }
                    class.push(c);
                }
                let mut set = Vec::new();
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        set.push((class[i], class[i + 2]));
                        i += 3;
                    } else {
                        set.push((class[i], class[i]));
                        i += 1;
                    }
                }
                set
            }
            '\\' => {
                let e = cs.next().unwrap();
                match e {
                    'd' => vec![('0', '9')],
                    e => vec![(e, e)],
                }
            }
            '(' | ')' | '|' | '.' | '*' | '+' | '?' | '{' => {
                panic!("pattern {p}: the check does not read {c} here")
            }
            c => vec![(c, c)],
        };
        let (min, max) = match cs.peek() {
            Some('?') => (0, 1),
            Some('*') => (0, usize::MAX),
            Some('+') => (1, usize::MAX),
            Some('{') => {
                let mut q = String::new();
                cs.next();
                for c in cs.by_ref() {
                    if c == '}' {
                        break;
                    }
                    q.push(c);
                }
                let (a, b) = q.split_once(',').unwrap_or((&q, &q));
                let max = if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().unwrap()
                };
                atoms.push(Atom {
                    set,
                    min: a.parse().unwrap(),
                    max,
                });
                continue;
            }
            _ => (1, 1),
        };
        if (min, max) != (1, 1) {
            cs.next();
        }
        atoms.push(Atom { set, min, max });
    }
    let chars: Vec<char> = s.chars().collect();
    match_from(&atoms, &chars)
}

fn match_from(atoms: &[Atom], s: &[char]) -> bool {
    let Some((a, rest)) = atoms.split_first() else {
        return s.is_empty();
    };
    let fits = |c: &char| a.set.iter().any(|(lo, hi)| lo <= c && c <= hi);
    let most = s.iter().take_while(|c| fits(c)).count().min(a.max);
    (a.min..=most).rev().any(|n| match_from(rest, &s[n..]))
}

#[test]
fn the_check_reads_what_openapi_schemas_say() {
    use serde_json::json;
    let root = json!({"components": {"schemas": {
        "Id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
        "Thing": {"type": "object", "required": ["id", "kind"], "additionalProperties": false,
            "properties": {"id": {"$ref": "#/components/schemas/Id"},
                "kind": {"enum": ["a", "b"]}, "n": {"type": ["integer", "null"], "minimum": 1},
                "v": {"const": true}, "x": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}},
    }}});
    let thing = json!({"$ref": "#/components/schemas/Thing"});
    let ok = json!({"id": "rekenwereld-5", "kind": "a", "n": null, "v": true, "x": 3});
    assert!(
        errors(&root, &thing, &ok).is_empty(),
        "{:?}",
        errors(&root, &thing, &ok)
    );
    let bad = json!({"id": "reken wereld", "kind": "c", "n": 0, "v": false, "x": [], "y": 1});
    assert_eq!(
        errors(&root, &thing, &bad).len(),
        6,
        "{:?}",
        errors(&root, &thing, &bad)
    );
    assert!(matches_pattern("^[0-9]{4}-[0-9]{4}$", "2026-2027"));
    assert!(!matches_pattern("^[0-9]{4}-[0-9]{4}$", "2026-202"));
    assert!(matches_pattern("^[0-9a-f]{64}$", &"ab".repeat(32)));
}
