#include "CSQLiteWriterSupport.h"

// sqlite-nio's bundled SQLite, linked into the same binary; declared here to avoid depending on
// its C module, which it does not export as a product.
extern int sqlite_nio_sqlite3_db_config(void *db, int op, ...);

#define AGORA_SQLITE_DBCONFIG_ENABLE_QPSG 1007

int agora_sqlite_enable_qpsg(void *db) {
    int enabled = 0;
    return sqlite_nio_sqlite3_db_config(db, AGORA_SQLITE_DBCONFIG_ENABLE_QPSG, 1, &enabled);
}
