//! Modules depend downwards only (routes → services → domain rules → entities): this test reads
//! the crate's sources and fails when two modules use each other, directly or through others,
//! printing each cycle and the lines that close it.
//!
//! It reads the source text, it does not ask the compiler. Comments, string and character
//! literals and `#[cfg(test)]` items are dropped first (test code may reach across), and files
//! named `tests.rs` and `main.rs` (the binary) are left out. Every path that starts with
//! `crate::`, `super::`, `self::`, or with a module brought into scope by a `use`
//! (`use crate::services;` and then `services::ideas::…`), is resolved to the longest module it
//! names; `use` groups are expanded however deeply they nest. A reference to one's own ancestor
//! or descendant (`services::ideas` → `services`) is not an edge. The graph is checked twice:
//! between top-level modules (`auth`, `routes`, `services`, …) and between second-level ones
//! (`services::ideas`, `routes::context`, …).
//!
//! `cargo test -p samskab --test module_graph -- --nocapture` also prints both graphs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A module path below the crate root, e.g. `["services", "ideas"]`; the root is empty.
type ModPath = Vec<String>;

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    /// A string, character or number literal; its content is gone.
    Literal,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits Rust source into identifiers, `::`, literals and punctuation. Comments (nested block
/// comments and doc comments included) disappear and literals lose their content, so neither
/// can be mistaken for a path or a brace.
fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let s: Vec<char> = src.chars().collect();
    let at = |i: usize| s.get(i).copied();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(c) = at(i) {
        let start_line = line;
        let mut push = |tok: Tok| {
            out.push(Token {
                tok,
                line: start_line,
            })
        };
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == Some('/') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            i = skip_block_comment(&s, i, &mut line)?;
        } else if c == '"' {
            i = skip_string(&s, i + 1, &mut line, start_line)?;
            push(Tok::Literal);
        } else if c == '\'' {
            match char_literal_end(&s, i) {
                Some(end) => {
                    i = end;
                    push(Tok::Literal);
                }
                // A lifetime or a loop label.
                None => {
                    i += 1;
                    push(Tok::Punct('\''));
                }
            }
        } else if c.is_ascii_digit() {
            i += 1;
            while let Some(d) = at(i) {
                let decimal_point = d == '.' && at(i + 1).is_some_and(|e| e.is_ascii_digit());
                if is_ident_char(d) || decimal_point {
                    i += 1;
                } else {
                    break;
                }
            }
            push(Tok::Literal);
        } else if is_ident_start(c) {
            let begin = i;
            while at(i).is_some_and(is_ident_char) {
                i += 1;
            }
            let word: String = s[begin..i].iter().collect();
            match (word.as_str(), at(i)) {
                ("r" | "br" | "cr", Some('#' | '"')) => {
                    let mut j = i;
                    while at(j) == Some('#') {
                        j += 1;
                    }
                    let hashes = j - i;
                    if at(j) == Some('"') {
                        i = skip_raw_string(&s, j + 1, hashes, &mut line, start_line)?;
                        push(Tok::Literal);
                    } else if word == "r" && hashes == 1 && at(j).is_some_and(is_ident_start) {
                        // A raw identifier such as `r#type`.
                        let begin = j;
                        while at(j).is_some_and(is_ident_char) {
                            j += 1;
                        }
                        push(Tok::Ident(s[begin..j].iter().collect()));
                        i = j;
                    } else {
                        push(Tok::Ident(word));
                    }
                }
                ("b" | "c", Some('"')) => {
                    i = skip_string(&s, i + 1, &mut line, start_line)?;
                    push(Tok::Literal);
                }
                ("b", Some('\'')) => match char_literal_end(&s, i) {
                    Some(end) => {
                        i = end;
                        push(Tok::Literal);
                    }
                    None => push(Tok::Ident(word)),
                },
                _ => push(Tok::Ident(word)),
            }
        } else if c == ':' && at(i + 1) == Some(':') {
            push(Tok::PathSep);
            i += 2;
        } else {
            push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

/// `s[i..]` starts with `/*`; returns the index after the matching `*/` (block comments nest).
fn skip_block_comment(s: &[char], i: usize, line: &mut usize) -> Result<usize, String> {
    let start_line = *line;
    let mut depth = 0usize;
    let mut j = i;
    loop {
        match (s.get(j), s.get(j + 1)) {
            (None, _) => return Err(format!("block comment from line {start_line} never ends")),
            (Some('/'), Some('*')) => {
                depth += 1;
                j += 2;
            }
            (Some('*'), Some('/')) => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return Ok(j);
                }
            }
            (Some(c), _) => {
                if *c == '\n' {
                    *line += 1;
                }
                j += 1;
            }
        }
    }
}

/// `j` is just after the opening `"`; returns the index after the closing one.
fn skip_string(s: &[char], mut j: usize, line: &mut usize, from: usize) -> Result<usize, String> {
    loop {
        match s.get(j) {
            None => return Err(format!("string literal from line {from} never ends")),
            Some('\\') => {
                if s.get(j + 1) == Some(&'\n') {
                    *line += 1;
                }
                j += 2;
            }
            Some('"') => return Ok(j + 1),
            Some(c) => {
                if *c == '\n' {
                    *line += 1;
                }
                j += 1;
            }
        }
    }
}

/// `j` is just after `r##"`; returns the index after the closing `"##`.
fn skip_raw_string(
    s: &[char],
    mut j: usize,
    hashes: usize,
    line: &mut usize,
    from: usize,
) -> Result<usize, String> {
    loop {
        match s.get(j) {
            None => return Err(format!("raw string literal from line {from} never ends")),
            Some('"') if (1..=hashes).all(|k| s.get(j + k) == Some(&'#')) => {
                return Ok(j + 1 + hashes);
            }
            Some(c) => {
                if *c == '\n' {
                    *line += 1;
                }
                j += 1;
            }
        }
    }
}

/// `s[i]` is `'`: the index after a character literal starting there (`'x'`, `'\n'`, `'\''`,
/// `'\u{1F600}'`), or `None` when it is a lifetime or a label (`'a`, `'static`, `'outer:`).
fn char_literal_end(s: &[char], i: usize) -> Option<usize> {
    if s.get(i + 1) == Some(&'\\') {
        // The escaped character itself (`'`, `\`, `n`, `u`) is at i + 2; the closing quote
        // follows within a few characters.
        return (i + 3..(i + 14).min(s.len()))
            .find(|&j| s[j] == '\'')
            .map(|j| j + 1);
    }
    match (s.get(i + 1), s.get(i + 2)) {
        (Some(c), Some('\'')) if *c != '\n' => Some(i + 3),
        _ => None,
    }
}

fn is_punct(t: Option<&Token>, c: char) -> bool {
    t.is_some_and(|t| t.tok == Tok::Punct(c))
}

fn is_ident(t: Option<&Token>, name: &str) -> bool {
    t.is_some_and(|t| matches!(&t.tok, Tok::Ident(w) if w == name))
}

fn is_path_sep(t: Option<&Token>) -> bool {
    t.is_some_and(|t| t.tok == Tok::PathSep)
}

// ---------------------------------------------------------------------------------------------
// #[cfg(test)]

/// A file's tokens without its `#[cfg(test)]` items.
#[derive(Debug, Default)]
struct Stripped {
    tokens: Vec<Token>,
    /// Child modules declared as test-only files: `#[cfg(test)] mod helpers;`.
    test_children: Vec<String>,
    /// The file starts with `#![cfg(test)]`.
    test_only: bool,
}

/// `toks[i]` opens a bracket: the index of the bracket that closes it (or the end).
fn matching_close(toks: &[Token], i: usize) -> usize {
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(i) {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The index after the item (or statement) that starts at `j`: after its `{…}` body or its `;`.
fn item_end(toks: &[Token], mut j: usize) -> usize {
    let mut depth = 0usize;
    while let Some(t) = toks.get(j) {
        match t.tok {
            Tok::Punct('(' | '[') => depth += 1,
            Tok::Punct(')' | ']') => depth = depth.saturating_sub(1),
            Tok::Punct('{') if depth == 0 => return matching_close(toks, j) + 1,
            Tok::Punct(';') if depth == 0 => return j + 1,
            _ => {}
        }
        j += 1;
    }
    toks.len()
}

/// `#[cfg(test)]` (or `#![cfg(test)]`) at `i`: the index after it and whether it is inner.
fn cfg_test_at(toks: &[Token], i: usize) -> Option<(usize, bool)> {
    if !is_punct(toks.get(i), '#') {
        return None;
    }
    let inner = is_punct(toks.get(i + 1), '!');
    let j = if inner { i + 2 } else { i + 1 };
    let shape = is_punct(toks.get(j), '[')
        && is_ident(toks.get(j + 1), "cfg")
        && is_punct(toks.get(j + 2), '(')
        && is_ident(toks.get(j + 3), "test")
        && is_punct(toks.get(j + 4), ')')
        && is_punct(toks.get(j + 5), ']');
    shape.then_some((j + 6, inner))
}

fn strip_cfg_test(toks: Vec<Token>) -> Stripped {
    let mut out = Stripped::default();
    let mut i = 0;
    while i < toks.len() {
        let Some((mut j, inner)) = cfg_test_at(&toks, i) else {
            out.tokens.push(toks[i].clone());
            i += 1;
            continue;
        };
        if inner {
            out.test_only = true;
            return out;
        }
        // Further attributes and the visibility belong to the same item.
        while is_punct(toks.get(j), '#') && is_punct(toks.get(j + 1), '[') {
            j = matching_close(&toks, j + 1) + 1;
        }
        let mut k = j;
        if is_ident(toks.get(k), "pub") {
            k += 1;
            if is_punct(toks.get(k), '(') {
                k = matching_close(&toks, k) + 1;
            }
        }
        if is_ident(toks.get(k), "mod")
            && is_punct(toks.get(k + 2), ';')
            && let Some(Tok::Ident(name)) = toks.get(k + 1).map(|t| &t.tok)
        {
            out.test_children.push(name.clone());
        }
        i = item_end(&toks, j);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Paths

/// One path as written, from its root segment on, with `use` groups expanded: `crate::{a, b}`
/// gives `crate::a` and `crate::b`; a group's `self` names the group's prefix.
#[derive(Debug, Clone)]
struct RawPath {
    segments: Vec<String>,
    /// `use … as name`.
    rename: Option<String>,
    line: usize,
}

/// Parses the path or use tree at `i`, appending `prefix` + each expansion to `out`; returns
/// the index after the whole tree.
fn parse_path(
    toks: &[Token],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<RawPath>,
) -> usize {
    let mut line = toks.get(i).map_or(0, |t| t.line);
    loop {
        match toks.get(i).map(|t| &t.tok) {
            Some(Tok::Ident(word)) => {
                line = toks[i].line;
                if word != "self" || prefix.is_empty() {
                    prefix.push(word.clone());
                }
                i += 1;
                if is_path_sep(toks.get(i)) {
                    i += 1;
                    continue;
                }
                let mut rename = None;
                if is_ident(toks.get(i), "as")
                    && let Some(Tok::Ident(name)) = toks.get(i + 1).map(|t| &t.tok)
                {
                    rename = Some(name.clone());
                    i += 2;
                }
                out.push(RawPath {
                    segments: prefix,
                    rename,
                    line,
                });
                return i;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i).map(|t| &t.tok) {
                        None => return i,
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        Some(_) => {
                            let next = parse_path(toks, i, prefix.clone(), out);
                            i = next.max(i + 1);
                        }
                    }
                }
            }
            // A glob, a turbofish (`::<`) or anything else ends the path at its prefix.
            other => {
                if other == Some(&Tok::Punct('*')) {
                    i += 1;
                }
                out.push(RawPath {
                    segments: prefix,
                    rename: None,
                    line,
                });
                return i;
            }
        }
    }
}

/// The absolute path that `raw` names from the module `current`, or `None` when it does not
/// start inside the crate.
fn absolute(
    raw: &[String],
    current: &[String],
    aliases: &BTreeMap<String, ModPath>,
) -> Option<ModPath> {
    let (first, rest) = raw.split_first()?;
    let mut path: ModPath = match first.as_str() {
        "crate" => Vec::new(),
        "self" => current.to_vec(),
        "super" => current.split_last()?.1.to_vec(),
        name => aliases.get(name)?.clone(),
    };
    for segment in rest {
        match segment.as_str() {
            "super" => {
                path.pop()?;
            }
            "self" => {}
            _ => path.push(segment.clone()),
        }
    }
    Some(path)
}

fn longest_module(path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| &path[..n])
        .find(|p| modules.contains(*p))
        .map_or_else(Vec::new, <[String]>::to_vec)
}

/// A path in a file that reaches into the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    line: usize,
    /// As written, with groups expanded: `crate::services::eligibility::may_vote`.
    written: String,
    /// The longest module it names.
    target: ModPath,
}

/// Every path in `tokens` (a file of module `current`) that names something in the crate.
fn references(tokens: &[Token], current: &[String], modules: &BTreeSet<ModPath>) -> Vec<Reference> {
    // Modules brought into scope by `use`, anywhere in the file (scopes are not tracked; the
    // compiler already rejects two imports of one name in one scope).
    let mut aliases: BTreeMap<String, ModPath> = BTreeMap::new();
    for (i, t) in tokens.iter().enumerate() {
        if !matches!(&t.tok, Tok::Ident(w) if w == "use") {
            continue;
        }
        let mut raw = Vec::new();
        parse_path(tokens, i + 1, Vec::new(), &mut raw);
        for p in raw {
            let Some(path) = absolute(&p.segments, current, &aliases) else {
                continue;
            };
            if path.is_empty() || !modules.contains(&path) {
                continue;
            }
            let name = p.rename.or_else(|| path.last().cloned());
            if let Some(name) = name.filter(|n| n != "_") {
                aliases.entry(name).or_insert(path);
            }
        }
    }

    let mut out = Vec::new();
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        let root = match &t.tok {
            Tok::Ident(w) => {
                matches!(w.as_str(), "crate" | "super" | "self") || aliases.contains_key(w)
            }
            _ => false,
        };
        let continues_a_path = i > 0 && matches!(tokens[i - 1].tok, Tok::PathSep | Tok::Punct('.'));
        if !root || continues_a_path || !is_path_sep(tokens.get(i + 1)) {
            i += 1;
            continue;
        }
        let mut raw = Vec::new();
        let end = parse_path(tokens, i, Vec::new(), &mut raw);
        for p in raw {
            if let Some(path) = absolute(&p.segments, current, &aliases) {
                out.push(Reference {
                    line: p.line,
                    written: p.segments.join("::"),
                    target: longest_module(&path, modules),
                });
            }
        }
        i = end.max(i + 1);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The crate

/// One reference from one module to another that is neither its ancestor nor its descendant.
#[derive(Debug, Clone)]
struct Dependency {
    from: ModPath,
    to: ModPath,
    /// `src/services/ideas.rs:12: crate::services::consultations::find`.
    evidence: String,
}

#[derive(Debug, Default)]
struct CrateSources {
    modules: BTreeSet<ModPath>,
    dependencies: Vec<Dependency>,
}

fn is_prefix(a: &[String], b: &[String]) -> bool {
    b.starts_with(a)
}

/// The dependencies of module `from` behind `refs`: references to the root, to itself, to an
/// ancestor or to a descendant are left out.
fn dependencies(from: &[String], file: &str, refs: &[Reference]) -> Vec<Dependency> {
    refs.iter()
        .filter(|r| {
            !r.target.is_empty() && !is_prefix(&r.target, from) && !is_prefix(from, &r.target)
        })
        .map(|r| Dependency {
            from: from.to_vec(),
            to: r.target.clone(),
            evidence: format!("{file}:{}: {}", r.line, r.written),
        })
        .collect()
}

/// The module of a file under `src/`: `a/b.rs` and `a/b/mod.rs` are `a::b`, `lib.rs` is the
/// root. `None` for the binary (`main.rs`) and for `tests.rs` files.
fn module_of(relative: &Path) -> Option<ModPath> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop()?;
    let stem = file.strip_suffix(".rs")?;
    match stem {
        "tests" => None,
        "main" | "lib" if parts.is_empty() => (stem == "lib").then_some(Vec::new()),
        "mod" => Some(parts),
        _ => {
            parts.push(stem.to_owned());
            Some(parts)
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| {
            e.map(|e| e.path())
                .map_err(|e| format!("{}: {e}", dir.display()))
        })
        .collect::<Result<_, _>>()?;
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

impl CrateSources {
    fn read(src: &Path) -> Result<Self, String> {
        let mut files = Vec::new();
        rust_files(src, &mut files)?;
        let mut parsed: Vec<(ModPath, String, Vec<Token>)> = Vec::new();
        let mut test_modules: Vec<ModPath> = Vec::new();
        for path in files {
            let relative = path
                .strip_prefix(src)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let Some(module) = module_of(relative) else {
                continue;
            };
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let tokens = tokenize(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let stripped = strip_cfg_test(tokens);
            for child in stripped.test_children {
                let mut m = module.clone();
                m.push(child);
                test_modules.push(m);
            }
            if stripped.test_only {
                test_modules.push(module);
                continue;
            }
            let shown = format!("src/{}", relative.to_string_lossy());
            parsed.push((module, shown, stripped.tokens));
        }
        parsed.retain(|(m, _, _)| !test_modules.iter().any(|t| is_prefix(t, m)));
        let modules: BTreeSet<ModPath> = parsed.iter().map(|(m, _, _)| m.clone()).collect();
        let mut dependencies_found = Vec::new();
        for (module, shown, tokens) in &parsed {
            let refs = references(tokens, module, &modules);
            dependencies_found.extend(dependencies(module, shown, &refs));
        }
        Ok(Self {
            modules,
            dependencies: dependencies_found,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Graphs and cycles

/// Modules cut to `depth` path segments, and which uses which.
#[derive(Debug, Default)]
struct Graph {
    depth: usize,
    nodes: BTreeSet<String>,
    /// from → to → the references behind the edge.
    edges: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

fn cut(path: &[String], depth: usize) -> String {
    path[..depth.min(path.len())].join("::")
}

impl Graph {
    fn new(modules: &BTreeSet<ModPath>, dependencies: &[Dependency], depth: usize) -> Self {
        let mut g = Graph {
            depth,
            nodes: modules
                .iter()
                .filter(|m| !m.is_empty())
                .map(|m| cut(m, depth))
                .collect(),
            edges: BTreeMap::new(),
        };
        for d in dependencies {
            let (from, to) = (cut(&d.from, depth), cut(&d.to, depth));
            // Only equal cuts can be related here: a shorter cut is the whole module path,
            // so the uncut paths would already be ancestor and descendant.
            if from == to {
                continue;
            }
            g.edges
                .entry(from)
                .or_default()
                .entry(to)
                .or_default()
                .push(d.evidence.clone());
        }
        g
    }

    fn name(&self) -> &'static str {
        if self.depth == 1 {
            "top-level modules"
        } else {
            "second-level modules"
        }
    }

    fn successors<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a String> + use<'a> {
        self.edges.get(node).into_iter().flat_map(|m| m.keys())
    }

    fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeMap::len).sum()
    }

    /// A shortest path `from → … → to` (both included), preferring names in sorted order.
    fn shortest_path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut previous: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([from.to_owned()]);
        let mut seen = BTreeSet::from([from.to_owned()]);
        while let Some(node) = queue.pop_front() {
            if node == to {
                let mut path = vec![node];
                while let Some(p) = path.last().and_then(|n| previous.get(n)) {
                    path.push(p.clone());
                }
                path.reverse();
                return Some(path);
            }
            for next in self.successors(&node) {
                if seen.insert(next.clone()) {
                    previous.insert(next.clone(), node.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        None
    }

    /// Every edge that lies on a cycle, closed by a shortest way back: each cycle as its nodes
    /// in order, starting from its smallest name, without repeating the first at the end.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut found = BTreeSet::new();
        for (a, targets) in &self.edges {
            for b in targets.keys() {
                let Some(back) = self.shortest_path(b, a) else {
                    continue;
                };
                // a → b → … → a, without the final a.
                let mut cycle = vec![a.clone()];
                cycle.extend(back.into_iter().take_while(|n| n != a));
                let smallest = cycle
                    .iter()
                    .enumerate()
                    .min_by(|x, y| x.1.cmp(y.1))
                    .map_or(0, |(i, _)| i);
                cycle.rotate_left(smallest);
                found.insert(cycle);
            }
        }
        found.into_iter().collect()
    }

    /// What a developer needs to break the cycles: each cycle, then each of its edges with the
    /// lines behind it.
    fn describe_cycles(&self, cycles: &[Vec<String>]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} cycle(s) between {} (a module must not use, directly or through others, a module \
             that uses it):",
            cycles.len(),
            self.name()
        );
        for group in tangles(cycles) {
            let names: Vec<&str> = group.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "  each of these reaches every other: {}",
                names.join(", ")
            );
        }
        let mut edges: BTreeSet<(&str, &str)> = BTreeSet::new();
        for cycle in cycles {
            let mut shown = cycle.clone();
            shown.extend(cycle.first().cloned());
            let _ = writeln!(out, "  {}", shown.join(" -> "));
            for pair in shown.windows(2) {
                if let Some((from, _)) = self.edges.get_key_value(&pair[0])
                    && let Some((to, _)) = self.edges[from].get_key_value(&pair[1])
                {
                    edges.insert((from.as_str(), to.as_str()));
                }
            }
        }
        let _ = writeln!(
            out,
            "the edges on these cycles and the references behind them:"
        );
        for (from, to) in edges {
            let evidence = &self.edges[from][to];
            let _ = writeln!(out, "  {from} -> {to}");
            for e in evidence.iter().take(5) {
                let _ = writeln!(out, "      {e}");
            }
            if evidence.len() > 5 {
                let _ = writeln!(out, "      … and {} more", evidence.len() - 5);
            }
        }
        out
    }

    fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} modules, {} edges (A -> B: code in A uses B; (n) references)",
            self.name(),
            self.nodes.len(),
            self.edge_count()
        );
        for node in &self.nodes {
            let targets: Vec<String> = self
                .edges
                .get(node)
                .into_iter()
                .flatten()
                .map(|(to, evidence)| format!("{to} ({})", evidence.len()))
                .collect();
            if targets.is_empty() {
                let _ = writeln!(out, "  {node}");
            } else {
                let _ = writeln!(out, "  {node} -> {}", targets.join(", "));
            }
        }
        out
    }
}

/// The modules tied together by cycles that share a module (the graph's strongly connected
/// parts that have cycles), each sorted.
fn tangles(cycles: &[Vec<String>]) -> Vec<BTreeSet<String>> {
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for cycle in cycles {
        let mut group: BTreeSet<String> = cycle.iter().cloned().collect();
        groups.retain(|g| {
            if g.is_disjoint(&group) {
                true
            } else {
                group.extend(g.iter().cloned());
                false
            }
        });
        groups.push(group);
    }
    groups.sort();
    groups
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn modules_depend_downwards_only() -> Result<(), String> {
    let sources = CrateSources::read(&src_dir())?;
    let mut report = String::new();
    for depth in [1, 2] {
        let graph = Graph::new(&sources.modules, &sources.dependencies, depth);
        let cycles = graph.cycles();
        if !cycles.is_empty() {
            report.push_str(&graph.describe_cycles(&cycles));
        }
    }
    assert!(report.is_empty(), "module cycles found\n{report}");
    Ok(())
}

#[test]
fn module_graph_is_printed_with_nocapture() -> Result<(), String> {
    let src = src_dir();
    let sources = CrateSources::read(&src)?;
    let top = Graph::new(&sources.modules, &sources.dependencies, 1);
    let second = Graph::new(&sources.modules, &sources.dependencies, 2);
    println!("{}", top.describe());
    println!("{}", second.describe());
    assert!(top.edge_count() > 0 && second.edge_count() >= top.edge_count());
    let mut expected = vec!["routes", "services", "entities", "errors"];
    if src.join("domain").is_dir() {
        expected.push("domain");
    }
    for module in expected {
        assert!(top.nodes.contains(module), "no module `{module}` found");
    }
    // Handlers use services: the reading of paths found at least that.
    assert!(
        top.edges
            .get("routes")
            .is_some_and(|t| t.contains_key("services"))
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The reader itself, on small inline snippets

fn modules(list: &[&str]) -> BTreeSet<ModPath> {
    let mut out: BTreeSet<ModPath> = list
        .iter()
        .map(|m| m.split("::").map(str::to_owned).collect())
        .collect();
    out.insert(Vec::new());
    out
}

fn path(m: &str) -> ModPath {
    m.split("::").map(str::to_owned).collect()
}

/// The modules `source`, as the file of module `current`, names, in order of appearance.
fn targets(source: &str, current: &str, known: &[&str]) -> Result<Vec<String>, String> {
    let stripped = strip_cfg_test(tokenize(source)?);
    let refs = references(&stripped.tokens, &path(current), &modules(known));
    Ok(refs.into_iter().map(|r| r.target.join("::")).collect())
}

#[test]
fn a_grouped_use_names_every_module_in_it_however_deeply_nested() -> Result<(), String> {
    let source = "use crate::{a, b::{self, c::Thing, d::{e::{f, g as h}}}, k::*};\n";
    let known = ["a", "b", "b::c", "b::d", "b::d::e", "k", "x"];
    assert_eq!(
        targets(source, "x", &known)?,
        ["a", "b", "b::c", "b::d::e", "b::d::e", "k"]
    );
    Ok(())
}

#[test]
fn super_and_self_paths_resolve_from_the_file_module() -> Result<(), String> {
    let source =
        "fn f() { super::consultations::find(); super::super::errors::E; self::inner::g(); }";
    let known = [
        "services",
        "services::ideas",
        "services::ideas::inner",
        "services::consultations",
        "errors",
    ];
    assert_eq!(
        targets(source, "services::ideas", &known)?,
        [
            "services::consultations",
            "errors",
            "services::ideas::inner"
        ]
    );
    Ok(())
}

#[test]
fn a_module_imported_by_use_is_followed_into_its_children() -> Result<(), String> {
    let source = "use crate::services;\nuse crate::opinion::{self as engine, Input};\n\
                  fn f() { services::ideas::list(); engine::pca::run(); x.services::y; }";
    let known = [
        "services",
        "services::ideas",
        "opinion",
        "opinion::pca",
        "routes",
    ];
    assert_eq!(
        targets(source, "routes", &known)?,
        [
            "services",
            "opinion",
            "opinion",
            "services::ideas",
            "opinion::pca"
        ]
    );
    Ok(())
}

#[test]
fn paths_in_comments_are_ignored() -> Result<(), String> {
    let source = "//! See crate::a::x.\n/// Calls crate::a::y.\n// crate::a::z\n\
                  /* crate::a /* nested crate::a */ still a comment crate::a */\n\
                  fn f() { crate::b::g(); }";
    assert_eq!(targets(source, "x", &["a", "b", "x"])?, ["b"]);
    Ok(())
}

#[test]
fn paths_in_string_and_character_literals_are_ignored() -> Result<(), String> {
    let source = r####"
        const A: &str = "crate::a::x \" crate::a::y";
        const B: &str = r#"crate::a::z "still" in"#;
        const C: &[u8] = b"crate::a";
        const D: char = '{';
        const E: char = '\'';
        fn f<'t>(x: &'t str) -> &'t str { crate::b::g(x) }
        use crate::{b};
    "####;
    assert_eq!(targets(source, "x", &["a", "b", "x"])?, ["b", "b"]);
    Ok(())
}

#[test]
fn cfg_test_items_and_test_modules_are_ignored() -> Result<(), String> {
    let source = "use crate::a::One;\n\
                  #[cfg(test)]\nmod tests {\n    use crate::b::Two;\n    const C: char = '}';\n    fn t() { crate::b::f(); }\n}\n\
                  #[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod helpers;\n\
                  #[cfg(test)]\nuse crate::b::Three;\n\
                  fn g() { crate::c::h(); }";
    let stripped = strip_cfg_test(tokenize(source)?);
    assert_eq!(stripped.test_children, ["helpers"]);
    assert_eq!(targets(source, "x", &["a", "b", "c", "x"])?, ["a", "c"]);
    Ok(())
}

#[test]
fn files_map_to_modules_and_the_binary_and_tests_files_are_left_out() {
    assert_eq!(module_of(Path::new("lib.rs")), Some(vec![]));
    assert_eq!(module_of(Path::new("main.rs")), None);
    assert_eq!(module_of(Path::new("errors.rs")), Some(path("errors")));
    assert_eq!(
        module_of(Path::new("services/mod.rs")),
        Some(path("services"))
    );
    assert_eq!(
        module_of(Path::new("services/ideas.rs")),
        Some(path("services::ideas"))
    );
    assert_eq!(module_of(Path::new("a/b/mod.rs")), Some(path("a::b")));
    assert_eq!(module_of(Path::new("opinion/tests.rs")), None);
}

#[test]
fn references_to_ancestors_and_descendants_are_not_edges() -> Result<(), String> {
    let known = modules(&[
        "services",
        "services::ideas",
        "services::consultations",
        "errors",
    ]);
    let source = "use super::now; use crate::services::Status; use crate::services::consultations;";
    let from = path("services::ideas");
    let refs = references(&tokenize(source)?, &from, &known);
    let deps = dependencies(&from, "src/services/ideas.rs", &refs);
    let to: Vec<String> = deps.iter().map(|d| d.to.join("::")).collect();
    assert_eq!(to, ["services::consultations"]);
    assert!(
        deps[0]
            .evidence
            .starts_with("src/services/ideas.rs:1: crate::services::consultations")
    );
    // services -> services::ideas from the parent's side is not an edge either.
    let parent = path("services");
    let refs = references(&tokenize("pub use self::ideas::List;")?, &parent, &known);
    assert!(dependencies(&parent, "src/services/mod.rs", &refs).is_empty());
    Ok(())
}

#[test]
fn a_tiny_cyclic_graph_is_reported_with_its_path_and_edges() {
    let known = modules(&["a", "b", "c", "d", "e::x", "e::y", "e"]);
    let dep = |from: &str, to: &str| Dependency {
        from: path(from),
        to: path(to),
        evidence: format!("src/{from}.rs:1: crate::{to}"),
    };
    let deps = [
        dep("a", "b"),
        dep("b", "c"),
        dep("c", "a"),
        dep("c", "d"),
        dep("e::x", "e::y"),
        dep("e::y", "e::x"),
    ];
    let top = Graph::new(&known, &deps, 1);
    assert_eq!(top.cycles(), [vec!["a", "b", "c"]]);
    let report = top.describe_cycles(&top.cycles());
    assert!(
        report.contains("reaches every other: a, b, c\n"),
        "{report}"
    );
    assert!(report.contains("a -> b -> c -> a"), "{report}");
    assert!(report.contains("src/c.rs:1: crate::a"), "{report}");
    assert!(!report.contains("crate::d"), "{report}");
    // e::x <-> e::y is inside one top-level module: a cycle only one level down.
    let second = Graph::new(&known, &deps, 2);
    assert_eq!(second.cycles(), [vec!["a", "b", "c"], vec!["e::x", "e::y"]]);

    let acyclic = Graph::new(&known, &[dep("a", "b"), dep("b", "c"), dep("a", "c")], 1);
    assert!(acyclic.cycles().is_empty());
}
