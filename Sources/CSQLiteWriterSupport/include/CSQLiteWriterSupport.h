#ifndef AGORA_CSQLITE_WRITER_SUPPORT_H
#define AGORA_CSQLITE_WRITER_SUPPORT_H

/// Turns on SQLite's query planner stability guarantee (SQLITE_DBCONFIG_ENABLE_QPSG) for the
/// connection `db` (a `sqlite3 *` of sqlite-nio's bundled SQLite). Returns SQLite's result code.
///
/// A C shim because `sqlite3_db_config` is variadic, and Swift cannot call variadic C functions.
int agora_sqlite_enable_qpsg(void *db);

#endif
