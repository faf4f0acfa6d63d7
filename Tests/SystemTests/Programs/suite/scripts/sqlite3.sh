sqlite3 db "create table t(a, b); insert into t values (1, 'x'), (2, 'y');"
sqlite3 db "select sum(a), group_concat(b) from t; select json_object('n', 6 * 7);"
sqlite3 db .schema
sqlite3 :memory: 'select sqlite_version();'
