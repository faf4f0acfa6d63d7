python3.11 -m venv --without-pip venv
venv/bin/python -c '
import ctypes, sqlite3, ssl, sys
print(sys.version_info[:3], sys.prefix != sys.base_prefix)
print(ssl.OPENSSL_VERSION, ssl.create_default_context().verify_mode)
print(sqlite3.sqlite_version, sqlite3.connect(":memory:").execute("select 6 * 7").fetchone())
print(ctypes.sizeof(ctypes.c_long), ctypes.CDLL(None).strlen(b"four"))'
