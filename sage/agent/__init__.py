"""The Sage 100 agent: reads Sage 100 over ODBC (or SQL Server, or a SQLite copy) and serves
docs/agent-api.md over HTTPS. Never writes, never imports the Slack side.

layout       Sage 100's own table and column names, and a writer for Sage-layout SQLite files
values       whatever a driver hands back -> the contract's value formats
readers      one declarative description per resource, and the only SQL the agent emits
connection   the seam: any DB-API connection (pyodbc for Sage/SQL Server, sqlite3 for demos)
service      listings, single records and key listings over the readers, with a scan cache
server       the HTTPS app (mTLS and/or API keys) on the embedded uvicorn server
config       agent.toml
check        `agent check`: one pass/fail line per thing an IT admin can fix
hosting      `serve` until stopped: for `agent serve` and the Windows service (no pywin32)
windows_service  the pywin32 service host around hosting.AgentHost (pywin32 passed in)
"""
