//! Brings the live document in line with a fresh server rendering of the same page, touching
//! only what differs.
//!
//! Replacing the page's HTML wholesale would flash, jump the scroll position and throw away
//! what a reader was doing. Walking both trees side by side instead keeps every node that is
//! still there: a half-typed value stays in its field (the browser keeps a field's typed value
//! when only its default changes), a `<details>` the reader opened stays open, the scroll
//! position stays put, and islands keep running untouched.
//!
//! Nodes are matched by kind: the tag and the attributes that name an element (`id`, `data-testid`,
//! `data-key`, `data-component`, `class`). Where the kinds at one position differ, a short look
//! ahead tells an insertion (a notice appearing above a form keeps the form) from a removal,
//! and only otherwise is the old node replaced. Whatever the matching, the result is the new
//! rendering exactly; the matching only decides which nodes survive.

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node};

const ISLAND_TAG: &str = "LEPTOS-ISLAND";

/// Makes `old_parent`'s children look like `new_parent`'s (which may belong to another
/// document, e.g. one parsed from a fetched page). Islands that arrive with new content are
/// pushed onto `new_islands`: they still need waking.
pub fn morph_children(
    document: &Document,
    old_parent: &Node,
    new_parent: &Node,
    new_islands: &mut Vec<Element>,
) {
    let mut old = old_parent.first_child();
    let mut next_new = new_parent.first_child();
    while let Some(new_node) = next_new {
        next_new = new_node.next_sibling();
        let Some(old_node) = old.clone() else {
            let fresh = import(document, &new_node, new_islands);
            // A failed DOM call leaves the page as it was; the next update tries again.
            let _ = old_parent.append_child(&fresh);
            continue;
        };
        if same_kind(&old_node, &new_node) {
            morph_node(document, &old_node, &new_node, new_islands);
            old = old_node.next_sibling();
        } else if later(next_new.clone(), &old_node).is_some() {
            // Something new arrived before the old node, which comes again further on: keep it.
            let fresh = import(document, &new_node, new_islands);
            let _ = old_parent.insert_before(&fresh, Some(&old_node));
        } else if let Some(kept) = later(old_node.next_sibling(), &new_node) {
            // Old nodes went away before one that is still there.
            let mut gone = Some(old_node);
            while let Some(node) = gone.filter(|node| !node.is_same_node(Some(&kept))) {
                gone = node.next_sibling();
                let _ = old_parent.remove_child(&node);
            }
            morph_node(document, &kept, &new_node, new_islands);
            old = kept.next_sibling();
        } else {
            let fresh = import(document, &new_node, new_islands);
            let _ = old_parent.replace_child(&fresh, &old_node);
            old = fresh.next_sibling();
        }
    }
    while let Some(extra) = old {
        old = extra.next_sibling();
        let _ = old_parent.remove_child(&extra);
    }
}

/// How far the look ahead goes: enough for a notice or a row appearing, little enough that a
/// long table of unlike rows stays quick.
const LOOK_AHEAD: usize = 8;

/// The first of `from` and its next few siblings that can be morphed into or from `like`.
fn later(from: Option<Node>, like: &Node) -> Option<Node> {
    std::iter::successors(from, Node::next_sibling)
        .take(LOOK_AHEAD)
        .find(|node| same_kind(node, like))
}

fn morph_node(document: &Document, old: &Node, new: &Node, new_islands: &mut Vec<Element>) {
    match new.node_type() {
        Node::ELEMENT_NODE => {
            let (old_element, new_element) = (old.unchecked_ref::<Element>(), new.unchecked_ref());
            // An island owns what is inside it, and it is already running: leave it be.
            if old_element.tag_name() == ISLAND_TAG {
                return;
            }
            sync_attributes(old_element, new_element);
            morph_children(document, old, new, new_islands);
        }
        Node::TEXT_NODE | Node::COMMENT_NODE => {
            let text = new.node_value();
            if old.node_value() != text {
                old.set_node_value(text.as_deref());
            }
        }
        _ => {}
    }
}

/// Whether `old` can be morphed into `new` rather than replaced by it.
fn same_kind(old: &Node, new: &Node) -> bool {
    if old.node_type() != new.node_type() {
        return false;
    }
    if new.node_type() != Node::ELEMENT_NODE {
        return true;
    }
    let (old, new) = (
        old.unchecked_ref::<Element>(),
        new.unchecked_ref::<Element>(),
    );
    // Attributes, never DOM properties: a form's properties are shadowed by its fields, so
    // `form.id` is the form's `<input name="id">`, not its id.
    old.tag_name() == new.tag_name()
        && ["id", "data-testid", "data-key", "data-component", "class"]
            .iter()
            .all(|name| old.get_attribute(name) == new.get_attribute(name))
}

fn sync_attributes(old: &Element, new: &Element) {
    // A <details> stays as the reader left it, open or closed.
    let reader_owned = |name: &str| name == "open" && old.tag_name() == "DETAILS";
    for name in old
        .get_attribute_names()
        .iter()
        .filter_map(|n| n.as_string())
    {
        if !reader_owned(&name) && !new.has_attribute(&name) {
            let _ = old.remove_attribute(&name);
        }
    }
    for name in new
        .get_attribute_names()
        .iter()
        .filter_map(|n| n.as_string())
    {
        if reader_owned(&name) {
            continue;
        }
        let value = new.get_attribute(&name).unwrap_or_default();
        if old.get_attribute(&name).as_deref() != Some(value.as_str()) {
            let _ = old.set_attribute(&name, &value);
        }
    }
}

/// A copy of `node` for this document, noting the islands inside it.
fn import(document: &Document, node: &Node, new_islands: &mut Vec<Element>) -> Node {
    let fresh = document
        .import_node_with_deep(node, true)
        .unwrap_or_else(|_| node.clone());
    if fresh.node_type() == Node::ELEMENT_NODE {
        let element = fresh.unchecked_ref::<Element>();
        if element.tag_name() == ISLAND_TAG {
            new_islands.push(element.clone());
        }
        if let Ok(inside) = element.query_selector_all("leptos-island") {
            for index in 0..inside.length() {
                if let Some(island) = inside.item(index) {
                    new_islands.push(island.unchecked_into());
                }
            }
        }
    }
    fresh
}
