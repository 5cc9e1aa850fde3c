//! The server's modules import only downwards: no two modules import each other, however
//! indirectly. Read from the source itself (every `crate::…` and `super::…` path outside
//! comments and test code), at two levels: the crate's top modules (`session`, `room`,
//! `cluster`, …) and, inside each, its own modules (`room::engine`, `room::actor`, …).
//!
//! `cargo test -p hallway-tests --test module_graph -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path, as segments below `crate`.
type Module = Vec<String>;

/// The crates whose modules are checked.
const CRATES: [&str; 2] = ["server/src", "proto/src"];

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let mut found = Vec::new();
    for krate in CRATES {
        let root = repo().join(krate);
        let files = sources(&root);
        let modules: BTreeSet<Module> = files.iter().map(|(module, _)| module.clone()).collect();
        let mut edges: BTreeSet<(Module, Module)> = BTreeSet::new();
        for (module, text) in &files {
            for target in references(module, &code_of(text)) {
                if let Some(target) = known_prefix(&target, &modules) {
                    edges.insert((module.clone(), target));
                }
            }
        }
        // Level 1: the crate's top modules.
        let top: BTreeSet<(String, String)> = edges
            .iter()
            .filter(|(from, to)| !from.is_empty() && !to.is_empty() && from[0] != to[0])
            .map(|(from, to)| (from[0].clone(), to[0].clone()))
            .collect();
        println!("{krate}: top modules");
        print_graph(&top);
        for cycle in cycles(&top) {
            found.push(format!("{krate}: {}", cycle.join(" → ")));
        }
        // Level 2: the modules inside each top module.
        let parents: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() >= 2)
            .map(|m| m[0].clone())
            .collect();
        for parent in parents {
            let inner: BTreeSet<(String, String)> = edges
                .iter()
                .filter(|(from, to)| {
                    from.len() >= 2 && to.len() >= 2 && from[0] == parent && to[0] == parent
                })
                .filter(|(from, to)| from[1] != to[1])
                .map(|(from, to)| (from[1].clone(), to[1].clone()))
                .collect();
            for cycle in cycles(&inner) {
                found.push(format!("{krate}: in {parent}: {}", cycle.join(" → ")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other, directly or through the others of their line:\n{}",
        found.join("\n")
    );
}

/// The parser sees what the code sees: a known cycle is found.
#[test]
fn a_cycle_through_super_and_grouped_imports_is_found() {
    let code = "use crate::{room::{actor::A, engine}, session::Conn};\nfn f() { super::x::y(); }";
    let refs = references(&["cluster".into(), "relay".into()], code);
    let paths: Vec<String> = refs.iter().map(|m| m.join("::")).collect();
    assert!(paths.contains(&"room::actor::A".into()), "{paths:?}");
    assert!(paths.contains(&"room::engine".into()), "{paths:?}");
    assert!(paths.contains(&"session::Conn".into()), "{paths:?}");
    assert!(paths.contains(&"cluster::x::y".into()), "{paths:?}");
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
    // Comments and test code import nothing.
    let code = code_of(
        "// use crate::x;\n/// [`crate::y`]\nuse crate::z;\n#[cfg(test)]\nmod tests {\n use crate::w;\n}\n",
    );
    let refs = references(&["a".into()], &code);
    assert_eq!(refs, vec![vec!["z".to_string()]]);
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

/// Every module file under `root`, with its module path; test-only files left out.
fn sources(root: &Path) -> Vec<(Module, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder reads") {
            let path = entry.expect("a folder entry reads").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name.ends_with("tests.rs") {
                continue;
            }
            let relative = path.strip_prefix(root).expect("below the root");
            let mut module: Module = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a source file reads");
            out.push((module, text));
        }
    }
    out.sort();
    out
}

/// The code of a file: comments blanked, everything from the first `#[cfg(test)]` on left
/// out (test modules sit at the end of a file).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string would cut the line short: harmless here, paths sit
            // before any string on their line.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path the code names below `crate` (resolving `super`), as far as it is written.
fn references(module: &[String], code: &str) -> Vec<Module> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let starts_word = at == 0 || !is_ident(bytes[at - 1]);
        if starts_word && rest.starts_with(b"crate::") {
            let (paths, used) = tree(&rest[b"crate::".len()..]);
            out.extend(paths);
            at += "crate::".len() + used.max(1);
        } else if starts_word && rest.starts_with(b"super::") {
            // This file's module, then one up per `super`.
            let mut base: Module = module.to_vec();
            let mut rest = rest;
            let mut used = 0;
            while let Some(after) = rest.strip_prefix(b"super::") {
                base.pop();
                rest = after;
                used += "super::".len();
            }
            let (paths, more) = tree(rest);
            for path in paths {
                let mut full = base.clone();
                full.extend(path);
                out.push(full);
            }
            at += used + more.max(1);
        } else {
            at += 1;
        }
    }
    out
}

/// Parses a use tree (`a::b`, `a::{b, c::d}`, `a::{self, b}`): its paths, and how many
/// bytes it took.
fn tree(bytes: &[u8]) -> (Vec<Module>, usize) {
    let mut at = 0;
    let mut prefix: Module = Vec::new();
    loop {
        if bytes.get(at) == Some(&b'{') {
            at += 1;
            let mut out = Vec::new();
            loop {
                while at < bytes.len() && (bytes[at] as char).is_whitespace() {
                    at += 1;
                }
                match bytes.get(at) {
                    None => return (out, at),
                    Some(b'}') => return (out, at + 1),
                    Some(b',') => at += 1,
                    Some(_) => {
                        let (inner, used) = tree(&bytes[at..]);
                        for path in inner {
                            let mut full = prefix.clone();
                            full.extend(path.into_iter().filter(|s| s != "self"));
                            out.push(full);
                        }
                        at += used.max(1);
                    }
                }
            }
        }
        let start = at;
        while at < bytes.len() && is_ident(bytes[at]) {
            at += 1;
        }
        if at == start {
            return (vec![prefix], at);
        }
        prefix.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        if bytes[at..].starts_with(b"::") {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The longest start of `path` that is a module of the crate.
fn known_prefix(path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|prefix| modules.contains(prefix))
}

fn print_graph(edges: &BTreeSet<(String, String)>) {
    let mut by_from: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        by_from.entry(from).or_default().push(to);
    }
    for (from, to) in by_from {
        println!("  {from} → {}", to.join(", "));
    }
}

/// The strongly connected parts of more than one module (Tarjan's algorithm), each as
/// its modules in order.
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        nodes.insert(from);
        nodes.insert(to);
        next.entry(from).or_default().push(to);
    }
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(node: &'a str, next: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(node, i);
        s.low.insert(node, i);
        s.stack.push(node);
        s.on_stack.insert(node);
        for &to in next.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if !s.index.contains_key(to) {
                visit(to, next, s);
                let low = s.low[node].min(s.low[to]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(to) {
                let low = s.low[node].min(s.index[to]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut part = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                part.push(top.to_owned());
                if top == node {
                    break;
                }
            }
            if part.len() > 1 {
                part.sort();
                s.out.push(part);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for node in nodes {
        if !state.index.contains_key(node) {
            visit(node, &next, &mut state);
        }
    }
    state.out.sort();
    state.out
}
