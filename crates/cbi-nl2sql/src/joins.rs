//! Join paths: the smallest tree of foreign-key links (declared or inferred) that connects the
//! tables a question needs, found as a Steiner-tree approximation (grow from the first table,
//! repeatedly attaching the nearest missing table by its cheapest path).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use cbi_types::DatabaseSchema;

/// One link between two tables, usable in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinEdge {
    pub a: usize,
    pub a_cols: Vec<usize>,
    pub b: usize,
    pub b_cols: Vec<usize>,
    /// Declared links cost less than inferred ones, so they win ties.
    pub cost: u32,
}

/// The graph of tables and links.
#[derive(Debug, Clone, Default)]
pub struct JoinGraph {
    pub edges: Vec<JoinEdge>,
    adj: Vec<Vec<usize>>,
    /// Extra cost of passing through each table: the order of magnitude of its row count, so
    /// that between equally short paths the one through smaller (dimension) tables wins —
    /// "revenue by region" reaches regions through the 25 stores, not the 2,000 customers.
    size: Vec<u32>,
}

/// A set of tables and the links joining them; `tables[0]` is the root, every other table is
/// added by exactly one entry of `joins` (edge index, table added), in an order where each
/// join's other side is already present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTree {
    pub tables: Vec<usize>,
    pub joins: Vec<(usize, usize)>,
}

impl JoinGraph {
    pub fn new(schema: &DatabaseSchema) -> Self {
        let mut edges = Vec::new();
        let mut adj = vec![Vec::new(); schema.tables.len()];
        for r in &schema.relationships {
            let (Some(a), Some(b)) = (
                schema.table_index(&r.from_table),
                schema.table_index(&r.to_table),
            ) else {
                continue;
            };
            let cols = |t: usize, names: &[String]| -> Option<Vec<usize>> {
                names
                    .iter()
                    .map(|n| schema.tables[t].column_index(n))
                    .collect()
            };
            let (Some(a_cols), Some(b_cols)) = (cols(a, &r.from_columns), cols(b, &r.to_columns))
            else {
                continue;
            };
            if a_cols.is_empty() || a_cols.len() != b_cols.len() {
                continue;
            }
            // Of two links between the same tables (`LeaveRequests.EmployeeID` and
            // `.ApproverID` → `Employees`), the one spelled as the key it references is the
            // default relationship; the other is a role.
            let named_as_key = r.from_columns.len() == 1
                && r.to_columns.len() == 1
                && r.from_columns[0].eq_ignore_ascii_case(&r.to_columns[0]);
            let e = JoinEdge {
                a,
                a_cols,
                b,
                b_cols,
                cost: if r.inferred { 12 } else { 10 } - u32::from(named_as_key),
            };
            if edges.contains(&e) {
                continue;
            }
            let idx = edges.len();
            adj[a].push(idx);
            if a != b {
                adj[b].push(idx);
            }
            edges.push(e);
        }
        let size = schema
            .tables
            .iter()
            .map(|t| t.row_count.map_or(0, |n| (n.max(1) as f64).log10() as u32))
            .collect();
        JoinGraph { edges, adj, size }
    }

    /// Whether two tables are directly linked (one adjacency scan of the smaller side).
    pub fn linked(&self, x: usize, y: usize) -> bool {
        let (a, b) = match (self.adj.get(x), self.adj.get(y)) {
            (Some(ax), Some(ay)) if ax.len() <= ay.len() => (x, y),
            (Some(_), Some(_)) => (y, x),
            _ => return false,
        };
        self.adj[a].iter().any(|&ei| {
            let e = &self.edges[ei];
            (e.a == a && e.b == b) || (e.b == a && e.a == b)
        })
    }

    /// Hops from one table to every table (None where unreachable): one breadth-first search,
    /// for callers that need many distances from the same table.
    pub fn distances_from(&self, x: usize) -> Vec<Option<usize>> {
        let mut dist = vec![None; self.adj.len()];
        if x >= dist.len() {
            return dist;
        }
        dist[x] = Some(0);
        let mut frontier = vec![x];
        let mut d = 0;
        while !frontier.is_empty() {
            d += 1;
            let mut next = Vec::new();
            for u in frontier {
                for &ei in &self.adj[u] {
                    let e = &self.edges[ei];
                    let v = if e.a == u { e.b } else { e.a };
                    if dist[v].is_none() {
                        dist[v] = Some(d);
                        next.push(v);
                    }
                }
            }
            frontier = next;
        }
        dist
    }

    /// Direct links between two tables.
    pub fn links_between(&self, x: usize, y: usize) -> impl Iterator<Item = &JoinEdge> {
        self.edges
            .iter()
            .filter(move |e| (e.a == x && e.b == y) || (e.a == y && e.b == x))
    }

    /// Number of links from a table to the others (its "hub-ness").
    pub fn degree(&self, t: usize) -> usize {
        self.adj.get(t).map_or(0, Vec::len)
    }

    /// The tree connecting `required` (first one is the root), or None when some table cannot be
    /// reached from the others.
    pub fn connect(&self, required: &[usize]) -> Option<JoinTree> {
        let mut req: Vec<usize> = Vec::new();
        for &t in required {
            if !req.contains(&t) {
                req.push(t);
            }
        }
        let root = *req.first()?;
        let mut tree = JoinTree {
            tables: vec![root],
            joins: Vec::new(),
        };
        let n = self.adj.len();
        while let Some(missing) = req.iter().find(|t| !tree.tables.contains(t)).copied() {
            let _ = missing;
            // Multi-source Dijkstra from the current tree to the nearest missing required table.
            let mut dist = vec![u32::MAX; n];
            let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
            let mut heap = BinaryHeap::new();
            for &t in &tree.tables {
                dist[t] = 0;
                heap.push(Reverse((0u32, t)));
            }
            let mut found = None;
            while let Some(Reverse((d, u))) = heap.pop() {
                if d > dist[u] {
                    continue;
                }
                if req.contains(&u) && !tree.tables.contains(&u) {
                    found = Some(u);
                    break;
                }
                for &ei in &self.adj[u] {
                    let e = &self.edges[ei];
                    let v = if e.a == u { e.b } else { e.a };
                    // Prefer not to route through big hub tables that are not needed.
                    let nd = d + e.cost + self.size.get(v).copied().unwrap_or(0);
                    if nd < dist[v] {
                        dist[v] = nd;
                        prev[v] = Some((u, ei));
                        heap.push(Reverse((nd, v)));
                    }
                }
            }
            let target = found?;
            let mut path = Vec::new();
            let mut cur = target;
            while !tree.tables.contains(&cur) {
                let (p, ei) = prev[cur]?;
                path.push((ei, cur));
                cur = p;
            }
            for (ei, t) in path.into_iter().rev() {
                tree.tables.push(t);
                tree.joins.push((ei, t));
            }
        }
        Some(tree)
    }

    /// Hops between two tables (None when unconnected).
    pub fn distance(&self, x: usize, y: usize) -> Option<usize> {
        if x == y {
            return Some(0);
        }
        let mut seen = vec![false; self.adj.len()];
        let mut frontier = vec![x];
        seen[x] = true;
        let mut d = 0;
        while !frontier.is_empty() {
            d += 1;
            let mut next = Vec::new();
            for u in frontier {
                for &ei in &self.adj[u] {
                    let e = &self.edges[ei];
                    let v = if e.a == u { e.b } else { e.a };
                    if v == y {
                        return Some(d);
                    }
                    if !seen[v] {
                        seen[v] = true;
                        next.push(v);
                    }
                }
            }
            frontier = next;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::{ColumnSchema, Relationship, RelationshipType, TableSchema};

    use super::*;

    fn schema() -> DatabaseSchema {
        let t = |name: &str, cols: &[&str]| TableSchema {
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnSchema {
                    name: c.to_string(),
                    data_type: "int".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let r = |a: &str, ac: &str, b: &str, bc: &str| Relationship {
            from_table: a.into(),
            from_columns: vec![ac.into()],
            to_table: b.into(),
            to_columns: vec![bc.into()],
            relationship_type: RelationshipType::ManyToOne,
            inferred: false,
        };
        DatabaseSchema {
            tables: vec![
                t("student", &["stuid"]),
                t("has_pet", &["stuid", "petid"]),
                t("pets", &["petid"]),
                t("dorm", &["dormid"]),
                t("lives_in", &["stuid", "dormid"]),
                t("island", &["x"]),
            ],
            relationships: vec![
                r("has_pet", "stuid", "student", "stuid"),
                r("has_pet", "petid", "pets", "petid"),
                r("lives_in", "stuid", "student", "stuid"),
                r("lives_in", "dormid", "dorm", "dormid"),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn connects_through_junction_tables() {
        let g = JoinGraph::new(&schema());
        let tree = g.connect(&[0, 2]).unwrap();
        assert_eq!(tree.tables, [0, 1, 2]);
        let tree = g.connect(&[2, 3]).unwrap();
        assert_eq!(tree.tables, [2, 1, 0, 4, 3]);
        assert!(g.connect(&[0, 5]).is_none());
        assert_eq!(g.connect(&[4]).unwrap().tables, [4]);
        assert_eq!(g.distance(2, 3), Some(4));
        assert_eq!(g.distance(0, 5), None);
    }
}
