//! The SQLite and PostgreSQL migrations are written twice; this holds them
//! to one schema: the same tables, columns, nullability, primary keys and
//! unique indexes (by their columns, or by name where they index an
//! expression such as `lower(name)`), so a migration added to one folder
//! only, or written differently in each, fails here. Each backend's own
//! search machinery is left out: SQLite's FTS5 tables, PostgreSQL's
//! generated sort keys.

use crate::helpers::*;
use std::collections::{BTreeMap, BTreeSet};

/// What must match between the backends, table by table.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Column name → nullable.
    columns: BTreeMap<String, bool>,
    primary_key: Vec<String>,
    /// Unique indexes as `(a,b)`, or by name when they index an expression.
    unique: BTreeSet<String>,
}

/// SQLite's full-text index of people (`users_search` and the shadow tables
/// FTS5 keeps) is SQLite's search; PostgreSQL searches with `pg_trgm`
/// indexes on `users` instead.
fn is_sqlite_search_index(table: &str) -> bool {
    table.starts_with("users_search")
}

async fn sqlite_schema(app: &TestApp) -> BTreeMap<String, Table> {
    let pool = &app.state.db.pool;
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut schema = BTreeMap::new();
    for (name,) in tables.into_iter().filter(|(t,)| !is_sqlite_search_index(t)) {
        let mut table = Table::default();
        let columns: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("columns");
        let mut key: Vec<(i64, String)> = Vec::new();
        for (column, not_null, pk) in columns {
            // An INTEGER PRIMARY KEY is the row id: never NULL.
            table
                .columns
                .insert(column.clone(), not_null == 0 && pk == 0);
            if pk > 0 {
                key.push((pk, column));
            }
        }
        key.sort();
        table.primary_key = key.into_iter().map(|(_, c)| c).collect();
        let indexes: Vec<(String, String)> =
            sqlx::query_as("SELECT name, origin FROM pragma_index_list($1) WHERE \"unique\" = 1")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("indexes");
        for (index, origin) in indexes {
            if origin == "pk" {
                continue;
            }
            // An expression's column has no name.
            let columns: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT COALESCE(name, '') FROM pragma_index_info('{index}') ORDER BY seqno"
            ))
            .fetch_all(pool)
            .await
            .expect("index columns");
            let columns: Option<Vec<String>> = columns
                .into_iter()
                .map(|(c,)| (!c.is_empty()).then_some(c))
                .collect();
            table.unique.insert(match columns {
                Some(columns) => format!("({})", columns.join(",")),
                None => index,
            });
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(app: &TestApp) -> BTreeMap<String, Table> {
    let pool = &app.state.db.pool;
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable::text
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
           AND is_generated = 'NEVER'
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut schema: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, nullable) in columns {
        schema
            .entry(table)
            .or_default()
            .columns
            .insert(column, nullable == "YES");
    }
    // An expression's column is attnum 0 in `indkey`.
    let indexes: Vec<(String, String, bool, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, ix.indisprimary,
                0 = ANY (ix.indkey::int2[]),
                COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY k.ord)
                          FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), '')
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND ix.indisunique AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    for (table, index, primary, on_expression, columns) in indexes {
        let table = schema.entry(table).or_default();
        if primary {
            table.primary_key = columns.split(',').map(str::to_owned).collect();
        } else if on_expression {
            table.unique.insert(index);
        } else {
            table.unique.insert(format!("({columns})"));
        }
    }
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_folders_make_the_same_schema() {
    let Some(postgres) = TestApp::spawn_postgres().await else {
        return;
    };
    let sqlite = TestApp::spawn(Backend::Sqlite).await;
    let (lite, pg) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    assert!(lite.len() > 15, "{} tables read", lite.len());
    let names = |s: &BTreeMap<String, Table>| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&lite), names(&pg), "the same tables");
    let mut differences = Vec::new();
    for (name, table) in &lite {
        if pg.get(name) != Some(table) {
            differences.push(format!(
                "{name}:\n  SQLite     {table:?}\n  PostgreSQL {:?}",
                pg.get(name)
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
