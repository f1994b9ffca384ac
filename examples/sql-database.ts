// A stateful library to keep in one worker: an SQLite database (sql.js, SQLite
// compiled to WebAssembly, so it installs without a compiler). Its memory lives
// in the worker that opened it; every call on the remote object runs there.
import initSqlJs, { type Database } from 'sql.js'

export async function openDatabase(): Promise<Database> {
  const SQL = await initSqlJs()
  return new SQL.Database()
}
