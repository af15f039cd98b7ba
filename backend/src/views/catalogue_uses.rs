//! Which messages of the catalogue a template can show.
//!
//! handlebars deep-copies the current context whenever a partial is
//! included at the top level of a page (the layout, `{{> content}}`, a
//! shared line such as the deadline), and the context holds the message
//! catalogue as `t` (~90 kB of JSON per locale). A page therefore gets only
//! the messages its template, and the partials it includes, name: found by
//! reading the templates once at start-up. A template that uses `t` in a way
//! this scan cannot follow gets the whole catalogue, so a page never misses
//! a message it could show.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What one template's source says about the catalogue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Uses {
    /// Paths below `t`, e.g. `["deadlines", "deadline_label"]`.
    pub paths: BTreeSet<Vec<String>>,
    /// The template uses `t` as a whole (or in a form not followed here).
    pub whole: bool,
    /// Partials it includes by name (`{{> name}}`, `{{#> name}}`).
    pub partials: BTreeSet<String>,
}

/// Read one template's source.
pub fn scan(source: &str) -> Uses {
    let mut uses = Uses::default();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        // Comments may contain anything, `}}` included in the long form.
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("--}}").map_or("", |end| &comment[end + 4..]);
            continue;
        }
        let Some(end) = after.find("}}") else {
            break;
        };
        let expression = &after[..end];
        rest = &after[end + 2..];
        if expression.starts_with('!') {
            continue;
        }
        scan_expression(expression, &mut uses);
    }
    uses
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '@' | '-' | '[' | ']')
}

fn scan_expression(expression: &str, uses: &mut Uses) {
    let expression = expression.trim_start_matches(['{', '~', '#', '^', '/', '&', ' ']);
    let (partial, body) = match expression.strip_prefix('>') {
        Some(body) => (true, body.trim_start()),
        None => (false, expression),
    };
    if partial && body.starts_with('(') {
        // A partial chosen at render time: it could be any template.
        uses.whole = true;
    }
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // A string literal: skip to its end.
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            first = false;
            continue;
        }
        if !is_token_char(c) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_token_char(chars[i]) {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let is_hash_key = chars.get(i) == Some(&'=');
        // `{{> partial t=t}}` hands the page's messages on: the partial's
        // own uses are read with it.
        let hands_on = partial && token == "t" && start > 0 && chars[start - 1] == '=';
        if partial && first {
            uses.partials.insert(token);
        } else if !is_hash_key && !hands_on {
            note_path(&token, uses);
        }
        first = false;
    }
}

fn note_path(token: &str, uses: &mut Uses) {
    let mut path = token;
    loop {
        if let Some(rest) = path.strip_prefix("@root.") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix("../") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix("this.") {
            path = rest;
        } else {
            break;
        }
    }
    if path == "t" {
        uses.whole = true;
    } else if let Some(below) = path.strip_prefix("t.") {
        if below.contains(['[', '/']) {
            uses.whole = true;
        } else {
            uses.paths
                .insert(below.split('.').map(str::to_owned).collect());
        }
    }
}

/// The uses of `name` together with those of every partial it includes,
/// directly or through other partials. Names that are not templates (inline
/// partials such as `content`) are defined in a template already read.
pub fn closure(name: &str, templates: &BTreeMap<String, Uses>) -> Uses {
    let mut all = Uses::default();
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(next) = todo.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        let Some(uses) = templates.get(&next) else {
            continue;
        };
        all.whole |= uses.whole;
        all.paths.extend(uses.paths.iter().cloned());
        all.partials.extend(uses.partials.iter().cloned());
        todo.extend(uses.partials.iter().cloned());
    }
    all
}

/// The part of `catalogue` that `uses` names. A path that stops at a group
/// of messages takes the whole group; a path that goes below a message (or
/// past what the catalogue has) takes what the catalogue has at the deepest
/// step it reaches; a path whose first step is not in the catalogue is not a
/// message (a field of something else called `t`) and takes nothing.
pub fn subset(catalogue: &Value, uses: &Uses) -> Value {
    if uses.whole {
        return catalogue.clone();
    }
    let mut out = Value::Object(Map::new());
    for path in &uses.paths {
        if path
            .first()
            .is_some_and(|first| catalogue.get(first).is_some())
        {
            copy_path(catalogue, &mut out, path);
        }
    }
    out
}

fn copy_path(from: &Value, to: &mut Value, path: &[String]) {
    let Some((step, rest)) = path.split_first() else {
        *to = from.clone();
        return;
    };
    let Some(below) = from.get(step) else {
        *to = from.clone();
        return;
    };
    let Some(object) = to.as_object_mut() else {
        return;
    };
    if rest.is_empty() || !below.is_object() {
        object.insert(step.clone(), below.clone());
        return;
    }
    let entry = object
        .entry(step.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    copy_path(below, entry, rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(list: &[&str]) -> BTreeSet<Vec<String>> {
        list.iter()
            .map(|p| p.split('.').map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn paths_partials_and_hash_values_are_found() {
        let uses = scan(
            r#"{{#> layouts/base}}{{#*inline "content"}}<h1>{{t.home.heading}}</h1>
{{tr t.votes.count n=page.n}} {{#each page.items}}{{@root.t.cards.label}}{{../t.cards.more}}{{/each}}
{{> partials/desk_lines lines=page.lines t=t}}{{{t.help.html}}}{{/inline}}{{/layouts/base}}"#,
        );
        assert_eq!(
            uses.paths,
            paths(&[
                "home.heading",
                "votes.count",
                "cards.label",
                "cards.more",
                "help.html"
            ])
        );
        assert_eq!(
            uses.partials,
            ["layouts/base", "partials/desk_lines"]
                .into_iter()
                .map(str::to_owned)
                .collect()
        );
        assert!(!uses.whole, "`t=t` passes the page's messages on");
    }

    #[test]
    fn comments_strings_and_other_fields_are_not_messages() {
        let uses = scan(
            r#"{{!-- {{t.old.thing}} }} --}}{{! t.short }}{{tr "t.literal"}}{{user.t}}{{ta.x}}"#,
        );
        assert_eq!(uses, Uses::default());
    }

    #[test]
    fn a_use_the_scan_cannot_follow_takes_the_whole_catalogue() {
        for source in [
            "{{#with t}}{{home.heading}}{{/with}}",
            "{{lookup t page.section}}",
            "{{t.[home].heading}}",
            "{{> (lookup page \"partial\")}}",
        ] {
            assert!(scan(source).whole, "{source}");
        }
    }

    #[test]
    fn the_closure_follows_partials_through_partials() {
        let templates: BTreeMap<String, Uses> = [
            ("pages/a", "{{#> layouts/base}}{{t.a.x}}{{/layouts/base}}"),
            (
                "layouts/base",
                "{{t.nav.home}}{{> content}}{{> partials/p}}",
            ),
            ("partials/p", "{{t.p.y}}{{> partials/a_loop}}"),
            ("partials/a_loop", "{{> partials/p}}"),
        ]
        .into_iter()
        .map(|(name, source)| (name.to_owned(), scan(source)))
        .collect();
        let all = closure("pages/a", &templates);
        assert_eq!(all.paths, paths(&["a.x", "nav.home", "p.y"]));
        assert!(!all.whole);
    }

    #[test]
    fn the_subset_keeps_exactly_the_named_messages() {
        let catalogue = json!({
            "home": { "heading": "Forside", "lead": "Velkommen" },
            "status": { "open": "Åben", "closed": "Lukket" },
            "plain": "Tekst",
            "other": { "x": "y" }
        });
        let uses = Uses {
            paths: paths(&["home.heading", "status", "plain.length", "nothere.x"]),
            ..Uses::default()
        };
        assert_eq!(
            subset(&catalogue, &uses),
            json!({
                "home": { "heading": "Forside" },
                "status": { "open": "Åben", "closed": "Lukket" },
                "plain": "Tekst"
            })
        );
        let whole = Uses {
            whole: true,
            ..Uses::default()
        };
        assert_eq!(subset(&catalogue, &whole), catalogue);
    }
}
