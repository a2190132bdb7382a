import { sql, sqlState, type Queryable } from "../sql/index.ts";
import { readRecord } from "./migration-record.ts";
import { engineMigrations, type EngineMigration, type RowFact } from "./migrations.ts";

export interface MissingMigration {
  name: string;
  /** What the schema lacks, when probed ("no column event_outbox.traceparent"); empty when told by the record. */
  problems: string[];
}

export interface SchemaStatus {
  /** The engine's migrations the database lacks, in order. */
  missing: MissingMigration[];
  /** How that was told: migrate()'s record table, or the schema itself (a schema made by another tool). */
  source: "record" | "probe";
}

/**
 * Which of the engine's migrations a database lacks: those its record table (outbox_relay_migrations)
 * does not name, or, without a record (the files applied by another tool), those whose objects
 * and row facts are not all there.
 */
export async function schemaStatus(db: Queryable, migrations: readonly EngineMigration[] = engineMigrations): Promise<SchemaStatus> {
  const recorded = await readRecord(db);
  if (recorded.size > 0) {
    return { source: "record", missing: migrations.filter(({ name }) => !recorded.has(name)).map(({ name }) => ({ name, problems: [] })) };
  }
  const problems = await probeMigrations(db, migrations);
  return { source: "probe", missing: migrations.filter(({ name }) => problems.get(name)!.length > 0).map(({ name }) => ({ name, problems: problems.get(name)! })) };
}

/** Each migration's problems in this database, by probing it: an empty list means it is in effect. */
export async function probeMigrations(db: Queryable, migrations: readonly EngineMigration[]): Promise<Map<string, string[]>> {
  const objects = migrations.flatMap((migration) => migration.objects);
  const tables = objects.map(tableOfColumn).filter((table) => table !== undefined);
  const present = await presentObjects(db, [...objects, ...tables]);
  // A column of a table that is not there at all: the table's absence says it (once; the migration
  // that makes the table says it for its own columns).
  const absentTableOf = (object: string) => {
    const table = tableOfColumn(object);
    return table !== undefined && !present.has(table) ? table : undefined;
  };
  const result = new Map<string, string[]>();
  for (const migration of migrations) {
    const missing = migration.objects.filter((object) => !present.has(object)).map((object) => absentTableOf(object) ?? object);
    const absent = [...new Set(missing)].map((object) => `no ${object}`);
    const failed: string[] = [];
    for (const fact of migration.rows) if (!(await holds(db, fact))) failed.push(fact.problem);
    result.set(migration.name, [...absent, ...failed]);
  }
  return result;
}

/** "table event_outbox" for "column event_outbox.id"; undefined for any other object. */
function tableOfColumn(object: string): string | undefined {
  const table = /^column (\w+)\./.exec(object)?.[1];
  return table && `table ${table}`;
}

/** Which of these catalog objects ("table t", "column t.c", "index i", "trigger t") exist in the current schema. */
async function presentObjects(db: Queryable, wanted: string[]): Promise<Set<string>> {
  const rows = await db.query<{ object: string }>(sql`
    SELECT object FROM (
      SELECT 'table ' || table_name AS object FROM information_schema.tables WHERE table_schema = current_schema()
      UNION ALL
      SELECT 'column ' || table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()
      UNION ALL
      SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema()
      UNION ALL
      SELECT 'trigger ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
    ) catalog WHERE object = ANY(${wanted}::text[])`);
  return new Set(rows.map((row) => row.object));
}

/** A row fact; one about a table or column that does not exist does not hold. */
async function holds(db: Queryable, fact: RowFact): Promise<boolean> {
  try {
    const [row] = await db.query<{ holds: boolean }>(fact.holds);
    return row?.holds === true;
  } catch (error) {
    if (["42P01", "42703"].includes(sqlState(error) ?? "")) return false; // undefined_table, undefined_column
    throw error;
  }
}
