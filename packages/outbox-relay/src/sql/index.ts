export { default as sql, empty, join, raw, Sql as Statement } from "sql-template-tag";
export { Connection, Database, planEachRun, type DatabaseOptions, type IsolationLevel, type Queryable } from "./database.ts";
export { isConnectionError, isPostgresConnectionError, isTransientError, postgresPort, sqlState } from "./errors.ts";
